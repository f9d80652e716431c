package dev.nfnets.train.data.augment;

import dev.nfnets.core.inference.TfResize;

/**
 * Separable float resampling of CHW images with TF2 {@code tf.image.resize} semantics (see
 * {@link Interpolation}); no antialiasing, output not clamped. The resampling itself is
 * {@link TfResize} in nfnets-core, shared with the inference preprocessing, so training crops and
 * evaluation see exactly the same kernel.
 *
 * <p>The general form {@link #resample} treats a rectangular region of the source as the image to be
 * resized to a virtual size and returns a window of that resized image, so "crop then resize"
 * (RandomResizedCrop) and "resize then centre crop" (evaluation) are both a single pass that computes only
 * the output pixels.
 */
public final class Resize {
    private Resize() {
    }

    /** Resizes the whole image to {@code outH x outW}. */
    public static FloatImage resize(FloatImage src, int outH, int outW, Interpolation interp) {
        return resample(src, 0, 0, src.height(), src.width(), outH, outW, 0, 0, outH, outW, interp);
    }

    /** Crops the region {@code [y0, y0+h) x [x0, x0+w)} and resizes it to {@code outH x outW}. */
    public static FloatImage cropResize(FloatImage src, int y0, int x0, int h, int w, int outH, int outW,
                                        Interpolation interp) {
        return resample(src, y0, x0, h, w, outH, outW, 0, 0, outH, outW, interp);
    }

    /**
     * Resizes the region {@code [ry0, ry0+rh) x [rx0, rx0+rw)} of {@code src} to {@code vh x vw} and returns
     * the window {@code [oy0, oy0+outH) x [ox0, ox0+outW)} of the result. Taps never reach outside the region.
     */
    public static FloatImage resample(FloatImage src, int ry0, int rx0, int rh, int rw, int vh, int vw,
                                      int oy0, int ox0, int outH, int outW, Interpolation interp) {
        float[] out = TfResize.resample(src.data(), src.channels(), src.height(), src.width(),
                new TfResize.Box(ry0, rx0, rh, rw), vh, vw, new TfResize.Box(oy0, ox0, outH, outW), method(interp));
        return new FloatImage(out, src.channels(), outH, outW);
    }

    private static TfResize.Method method(Interpolation interp) {
        switch (interp) {
            case NEAREST:
                return TfResize.Method.NEAREST;
            case BILINEAR:
                return TfResize.Method.BILINEAR;
            case BICUBIC:
                return TfResize.Method.BICUBIC;
            default:
                throw new IllegalArgumentException("unknown interpolation " + interp);
        }
    }
}
