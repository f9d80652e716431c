package dev.nfnets.train.data.augment;

/** Resampling kernels of {@link Resize}. */
public enum Interpolation {
    /** Nearest neighbour (half-pixel centres, ties rounded down). */
    NEAREST,
    /** Bilinear, TF2 {@code tf.image.resize(BILINEAR)} semantics (half-pixel centres, edge clamped). */
    BILINEAR,
    /**
     * Bicubic, TF2 {@code tf.image.resize(BICUBIC)} semantics used by the NFNet reference: Keys kernel
     * a = -0.5, half-pixel centres, taps outside the image get weight 0 and the rest are renormalised,
     * fractional positions quantised to 1/1024, no antialiasing, output not clamped.
     */
    BICUBIC
}
