package dev.nfnets.core.inference;

import java.util.Objects;

/**
 * Separable float resampling of CHW images with the semantics of TF2 {@code tf.image.resize} (half-pixel
 * centres, no antialiasing, output neither clamped nor rounded). It is the resize step of the NFNet reference
 * evaluation (spec section 8.1) and of the training pipeline's crops.
 *
 * <p>{@link Method#BICUBIC} follows TF's {@code ResizeBicubic} kernel with {@code half_pixel_centers=true}:
 * Keys cubic with a = -0.5, source position {@code (out + 0.5) * in/out - 0.5}, taps {@code floor(pos)-1 ..
 * floor(pos)+2}, taps outside the image get weight 0 and the rest are renormalised to sum 1, and the fractional
 * position is quantised to 1/1024 (round half to even, as {@code lrintf}) before the kernel is evaluated. Like
 * TF it interpolates vertically first and then horizontally, in float.
 *
 * <p>The general {@link #resample} resizes a rectangular region of the source to a virtual size and returns
 * only a window of that virtual image, so "crop then resize" and "resize then centre crop" are one pass that
 * computes just the pixels kept. The window's values are exactly those of resizing fully and cropping.
 *
 * <pre>{@code
 * // squash a 3x375x500 image to 288x288 and keep the centre 256x256, as the reference F0 eval does
 * float[] out = TfResize.resample(rgb, 3, 375, 500, TfResize.Box.whole(375, 500), 288, 288,
 *         new TfResize.Box(16, 16, 256, 256), TfResize.Method.BICUBIC);
 * }</pre>
 */
public final class TfResize {
    private static final int TABLE = 1024;
    /** TF's weight table: entry 2i is the kernel at i/1024, entry 2i+1 at 1 + i/1024 (computed in double). */
    private static final float[] COEFFS = coefficients(-0.5);

    /** Resampling kernels. */
    public enum Method {
        /** Nearest neighbour: source index {@code floor((out + 0.5) * in/out)}, clamped. */
        NEAREST,
        /** Bilinear with half-pixel centres, edge clamped. */
        BILINEAR,
        /** TF2 bicubic as described in the class comment. */
        BICUBIC
    }

    /** A rectangle {@code [y, y+height) x [x, x+width)}. */
    public record Box(int y, int x, int height, int width) {
        /** The whole of an {@code height x width} image. */
        public static Box whole(int height, int width) {
            return new Box(0, 0, height, width);
        }

        boolean inside(int h, int w) {
            return y >= 0 && x >= 0 && height > 0 && width > 0 && (long) y + height <= h && (long) x + width <= w;
        }
    }

    private TfResize() {
    }

    /** Resizes a whole {@code channels x height x width} image to {@code outH x outW}. */
    public static float[] resize(float[] chw, int channels, int height, int width, int outH, int outW,
                                 Method method) {
        return resample(chw, channels, height, width, Box.whole(height, width), outH, outW, Box.whole(outH, outW),
                method);
    }

    /**
     * Resizes {@code region} of the {@code channels x height x width} image {@code chw} to a virtual
     * {@code virtualH x virtualW} image and returns its {@code window} as a new CHW array of
     * {@code channels x window.height() x window.width()}. Taps never reach outside {@code region}.
     */
    public static float[] resample(float[] chw, int channels, int height, int width, Box region, int virtualH,
                                   int virtualW, Box window, Method method) {
        Objects.requireNonNull(chw, "chw");
        Objects.requireNonNull(method, "method");
        if (channels <= 0 || height <= 0 || width <= 0 || chw.length != (long) channels * height * width) {
            throw new IllegalArgumentException("image of " + chw.length + " values does not match shape "
                    + channels + "x" + height + "x" + width);
        }
        if (!region.inside(height, width)) {
            throw new IllegalArgumentException("region " + region.height() + "x" + region.width() + " at ("
                    + region.y() + "," + region.x() + ") is not inside a " + height + "x" + width + " image");
        }
        if (virtualH <= 0 || virtualW <= 0 || !window.inside(virtualH, virtualW)) {
            throw new IllegalArgumentException("window " + window.height() + "x" + window.width() + " at ("
                    + window.y() + "," + window.x() + ") is not inside the resized size " + virtualH + "x" + virtualW);
        }
        int outH = window.height();
        int outW = window.width();
        Taps ty = taps(region.height(), virtualH, window.y(), outH, method);
        Taps tx = taps(region.width(), virtualW, window.x(), outW, method);
        // columns of the region the horizontal taps read; the vertical pass fills only those
        int colLo = tx.minIndex();
        int cols = tx.maxIndex() - colLo + 1;
        int colBase = region.x() + colLo;
        float[] rowBuf = new float[cols];
        float[] out = new float[channels * outH * outW];
        int ky = ty.k;
        int kx = tx.k;
        for (int c = 0; c < channels; c++) {
            int plane = c * height * width;
            for (int oy = 0; oy < outH; oy++) {
                int tb = oy * ky;
                for (int j = 0; j < cols; j++) {
                    float acc = 0f;
                    for (int k = 0; k < ky; k++) {
                        acc += ty.weight[tb + k] * chw[plane + (region.y() + ty.index[tb + k]) * width + colBase + j];
                    }
                    rowBuf[j] = acc;
                }
                int o = (c * outH + oy) * outW;
                for (int ox = 0; ox < outW; ox++) {
                    int xb = ox * kx;
                    float acc = 0f;
                    for (int k = 0; k < kx; k++) {
                        acc += tx.weight[xb + k] * rowBuf[tx.index[xb + k] - colLo];
                    }
                    out[o + ox] = acc;
                }
            }
        }
        return out;
    }

    /** Per-output taps of one axis: {@code k} (index, weight) pairs per output pixel, indices in [0, in). */
    private record Taps(int k, int[] index, float[] weight) {
        int minIndex() {
            int m = Integer.MAX_VALUE;
            for (int i : index) {
                m = Math.min(m, i);
            }
            return m;
        }

        int maxIndex() {
            int m = Integer.MIN_VALUE;
            for (int i : index) {
                m = Math.max(m, i);
            }
            return m;
        }
    }

    private static Taps taps(int in, int virtualOut, int start, int count, Method method) {
        // TF computes the scale and the source position in float; so do we, for the same rounding
        float scale = (float) in / virtualOut;
        switch (method) {
            case NEAREST: {
                int[] idx = new int[count];
                float[] wt = new float[count];
                for (int i = 0; i < count; i++) {
                    float pos = ((float) (start + i) + 0.5f) * scale;
                    idx[i] = Math.min(in - 1, Math.max(0, (int) Math.floor(pos)));
                    wt[i] = 1f;
                }
                return new Taps(1, idx, wt);
            }
            case BILINEAR: {
                int[] idx = new int[2 * count];
                float[] wt = new float[2 * count];
                for (int i = 0; i < count; i++) {
                    float pos = ((float) (start + i) + 0.5f) * scale - 0.5f;
                    float fl = (float) Math.floor(pos);
                    float lerp = pos - fl;
                    idx[2 * i] = Math.min(Math.max((int) fl, 0), in - 1);
                    idx[2 * i + 1] = Math.max(Math.min((int) Math.ceil(pos), in - 1), 0);
                    wt[2 * i] = 1f - lerp;
                    wt[2 * i + 1] = lerp;
                }
                return new Taps(2, idx, wt);
            }
            case BICUBIC:
                return bicubicTaps(in, scale, start, count);
            default:
                throw new IllegalArgumentException("unknown resize method " + method);
        }
    }

    private static Taps bicubicTaps(int in, float scale, int start, int count) {
        int[] idx = new int[4 * count];
        float[] wt = new float[4 * count];
        for (int i = 0; i < count; i++) {
            float pos = ((float) (start + i) + 0.5f) * scale - 0.5f;
            float floor = (float) Math.floor(pos);
            int loc = (int) floor;
            // lrintf(delta * 1024): Math.rint rounds half to even like the default FP rounding mode
            int off = (int) Math.rint((pos - floor) * TABLE);
            float[] w4 = {COEFFS[off * 2 + 1], COEFFS[off * 2], COEFFS[(TABLE - off) * 2],
                    COEFFS[(TABLE - off) * 2 + 1]};
            float sum = 0f;
            for (int k = 0; k < 4; k++) {
                int j = loc - 1 + k;
                int b = 4 * i + k;
                idx[b] = Math.min(in - 1, Math.max(0, j));
                wt[b] = j >= 0 && j < in ? w4[k] : 0f;
                sum += wt[b];
            }
            if (Math.abs(sum) >= 1000f * Float.MIN_NORMAL) {
                float inv = 1f / sum;
                for (int k = 0; k < 4; k++) {
                    wt[4 * i + k] *= inv;
                }
            }
        }
        return new Taps(4, idx, wt);
    }

    /** Keys cubic kernel sampled as TF's {@code InitCoeffsTable}: float positions, double polynomial, float result. */
    private static float[] coefficients(double a) {
        float[] tab = new float[(TABLE + 1) * 2];
        for (int i = 0; i <= TABLE; i++) {
            float x = (float) (i * 1.0 / TABLE);
            tab[i * 2] = (float) (((a + 2) * x - (a + 3)) * x * x + 1);
            x += 1.0f;
            tab[i * 2 + 1] = (float) (((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
        }
        return tab;
    }
}
