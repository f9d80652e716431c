package dev.nfnets.layers;

/**
 * What role a {@link Parameter} plays. Optimizer policy (weight decay, adaptive gradient clipping,
 * freezing) is decided from tags, never from name patterns.
 */
public enum Tag {
    /** A convolution or dense kernel. Weight decay applies to these. */
    WEIGHT,
    /** An additive bias. */
    BIAS,
    /** A multiplicative gain, e.g. the per-channel gain of a weight-standardised convolution. */
    GAIN,
    /** The scalar SkipInit gain of a residual branch. */
    SKIP_GAIN,
    /** Belongs to the final classifier (its kernel is exempt from AGC in the NFNet recipe). */
    CLASSIFIER,
    /** Belongs to a squeeze-excite unit. */
    SQUEEZE_EXCITE
}
