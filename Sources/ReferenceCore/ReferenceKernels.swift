import DINOCore

/// The specification core: every operation as plain loops that read like the math, one output
/// element at a time, sums accumulated in Double. No SIMD types, no threads, no cleverness.
/// `SIMDKernels` must agree with this to a tolerance derived in `Tolerance.swift`. What a valid
/// call is, both cores take from DINOCore's ``KernelContract``.
public enum ReferenceKernels: KernelSet {}
