/// Operations of the ViT and the DINO head beyond the generic ones: attention, patch
/// embedding, position-embedding resampling, weight normalisation (the model issue adds them).
public protocol ModelKernels {}
