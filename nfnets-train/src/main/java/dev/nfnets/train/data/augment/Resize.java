package dev.nfnets.train.data.augment;

/**
 * Separable float resampling of CHW images with TF2 {@code tf.image.resize} semantics (see
 * {@link Interpolation}); no antialiasing, output not clamped.
 *
 * <p>The general form {@link #resample} treats a rectangular region of the source as the image to be
 * resized to a virtual size and returns a window of that resized image, so "crop then resize"
 * (RandomResizedCrop) and "resize then centre crop" (evaluation) are both a single pass that computes only
 * the output pixels.
 */
public final class Resize {
    private static final float KEYS_A = -0.5f;
    private static final int TABLE = 1024;

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
        int c = src.channels();
        int h = src.height();
        int w = src.width();
        if (ry0 < 0 || rx0 < 0 || rh <= 0 || rw <= 0 || ry0 + rh > h || rx0 + rw > w) {
            throw new IllegalArgumentException("region " + rh + "x" + rw + " at (" + ry0 + "," + rx0
                    + ") is not inside a " + h + "x" + w + " image");
        }
        if (vh <= 0 || vw <= 0 || outH <= 0 || outW <= 0 || oy0 < 0 || ox0 < 0 || oy0 + outH > vh
                || ox0 + outW > vw) {
            throw new IllegalArgumentException("window " + outH + "x" + outW + " at (" + oy0 + "," + ox0
                    + ") is not inside the resized size " + vh + "x" + vw);
        }
        Taps ty = taps(rh, vh, oy0, outH, interp);
        Taps tx = taps(rw, vw, ox0, outW, interp);
        float[] s = src.data();
        // rows of the region needed by the vertical taps
        int rowLo = Integer.MAX_VALUE;
        int rowHi = -1;
        for (int i = 0; i < ty.index.length; i++) {
            if (ty.weight[i] != 0f) {
                rowLo = Math.min(rowLo, ty.index[i]);
                rowHi = Math.max(rowHi, ty.index[i]);
            }
        }
        if (rowHi < 0) {
            rowLo = 0;
            rowHi = 0;
        }
        int rows = rowHi - rowLo + 1;
        float[] tmp = new float[rows * outW];
        float[] out = new float[c * outH * outW];
        int kx = tx.k;
        int ky = ty.k;
        for (int ch = 0; ch < c; ch++) {
            // horizontal pass over the needed rows
            for (int r = 0; r < rows; r++) {
                int base = (ch * h + ry0 + rowLo + r) * w + rx0;
                int t = r * outW;
                for (int ox = 0; ox < outW; ox++) {
                    float acc = 0f;
                    int tb = ox * kx;
                    for (int k = 0; k < kx; k++) {
                        acc += tx.weight[tb + k] * s[base + tx.index[tb + k]];
                    }
                    tmp[t + ox] = acc;
                }
            }
            // vertical pass
            int ob = ch * outH * outW;
            for (int oy = 0; oy < outH; oy++) {
                int tb = oy * ky;
                int o = ob + oy * outW;
                for (int ox = 0; ox < outW; ox++) {
                    float acc = 0f;
                    for (int k = 0; k < ky; k++) {
                        acc += ty.weight[tb + k] * tmp[(ty.index[tb + k] - rowLo) * outW + ox];
                    }
                    out[o + ox] = acc;
                }
            }
        }
        return new FloatImage(out, c, outH, outW);
    }

    /** Per-output taps of one axis: {@code k} (index, weight) pairs per output pixel, indices in [0, in). */
    private record Taps(int k, int[] index, float[] weight) {
    }

    private static Taps taps(int in, int virtualOut, int start, int count, Interpolation interp) {
        float scale = (float) in / virtualOut;
        switch (interp) {
            case NEAREST: {
                int[] idx = new int[count];
                float[] wt = new float[count];
                for (int i = 0; i < count; i++) {
                    float pos = (start + i + 0.5f) * scale;
                    idx[i] = Math.min(in - 1, Math.max(0, (int) Math.floor(pos)));
                    wt[i] = 1f;
                }
                return new Taps(1, idx, wt);
            }
            case BILINEAR: {
                int[] idx = new int[2 * count];
                float[] wt = new float[2 * count];
                for (int i = 0; i < count; i++) {
                    float pos = (start + i + 0.5f) * scale - 0.5f;
                    float fl = (float) Math.floor(pos);
                    int lo = Math.max((int) fl, 0);
                    int hi = Math.min((int) Math.ceil(pos), in - 1);
                    float lerp = pos - fl;
                    idx[2 * i] = Math.min(lo, in - 1);
                    idx[2 * i + 1] = Math.max(hi, 0);
                    wt[2 * i] = 1f - lerp;
                    wt[2 * i + 1] = lerp;
                }
                return new Taps(2, idx, wt);
            }
            case BICUBIC: {
                int[] idx = new int[4 * count];
                float[] wt = new float[4 * count];
                for (int i = 0; i < count; i++) {
                    float pos = (start + i + 0.5f) * scale - 0.5f;
                    int loc = (int) Math.floor(pos);
                    float t = Math.round((pos - loc) * TABLE) / (float) TABLE;
                    float[] w4 = {keys(1f + t), keys(t), keys(1f - t), keys(2f - t)};
                    float sum = 0f;
                    for (int k = 0; k < 4; k++) {
                        int j = loc - 1 + k;
                        boolean inside = j >= 0 && j < in;
                        idx[4 * i + k] = Math.min(in - 1, Math.max(0, j));
                        wt[4 * i + k] = inside ? w4[k] : 0f;
                        sum += wt[4 * i + k];
                    }
                    if (Math.abs(sum) >= 1000f * Float.MIN_NORMAL && sum != 1f) {
                        float inv = 1f / sum;
                        for (int k = 0; k < 4; k++) {
                            wt[4 * i + k] *= inv;
                        }
                    }
                }
                return new Taps(4, idx, wt);
            }
            default:
                throw new IllegalArgumentException("unknown interpolation " + interp);
        }
    }

    /** Keys cubic convolution kernel with a = -0.5. */
    static float keys(float x) {
        float ax = Math.abs(x);
        if (ax <= 1f) {
            return ((KEYS_A + 2f) * ax - (KEYS_A + 3f)) * ax * ax + 1f;
        }
        if (ax < 2f) {
            return ((KEYS_A * ax - 5f * KEYS_A) * ax + 8f * KEYS_A) * ax - 4f * KEYS_A;
        }
        return 0f;
    }
}
