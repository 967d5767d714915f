// CPUID and XGETBV, for choosing the SIMD core's path at run time. Header-only: the two
// static inline functions are compiled by Swift's Clang importer, so there is no C target
// and no C kernel; this is the one fact Swift cannot ask the CPU for by itself.
#pragma once
#include <stdint.h>

#if defined(__x86_64__)
#include <cpuid.h>

/// 1 when the CPU and the operating system both support AVX-512 F, BW, DQ and VL (CPUID leaf 7)
/// with the ZMM and mask register state enabled by the OS (XCR0 bits 5-7 besides 1-2), else 0.
static inline int dino_cpu_has_avx512(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27))) return 0;                 // OSXSAVE: XGETBV is usable
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6u) != 0xE6u) return 0;             // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const unsigned int f = 1u << 16, dq = 1u << 17, bw = 1u << 30, vl = 1u << 31;
    return (b & (f | dq | bw | vl)) == (f | dq | bw | vl);
}

/// 1 when the CPU and the OS support AVX2 and FMA (the x86-64-v3 path), else 0.
static inline int dino_cpu_has_avx2_fma(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 12))) return 0;   // OSXSAVE, FMA
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6u) != 0x6u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) != 0;                              // AVX2
}
#else
static inline int dino_cpu_has_avx512(void) { return 0; }
static inline int dino_cpu_has_avx2_fma(void) { return 0; }
#endif
