package dev.nfnets.core.inference;

/**
 * An independent, deliberately plain re-statement of TF2 bicubic resizing for the tests: double precision
 * throughout, the Keys polynomial evaluated directly (no table), and a direct 4x4 two-dimensional sum per
 * output pixel instead of two separable passes.
 */
final class NaiveTfResize {
    private NaiveTfResize() {
    }

    /** Bicubic resize of a CHW image to {@code outH x outW}. */
    static double[] bicubic(float[] src, int channels, int h, int w, int outH, int outW) {
        double[] out = new double[channels * outH * outW];
        for (int c = 0; c < channels; c++) {
            for (int oy = 0; oy < outH; oy++) {
                int[] iy = new int[4];
                double[] wy = weights(oy, h, outH, iy);
                for (int ox = 0; ox < outW; ox++) {
                    int[] ix = new int[4];
                    double[] wx = weights(ox, w, outW, ix);
                    double acc = 0;
                    for (int a = 0; a < 4; a++) {
                        for (int b = 0; b < 4; b++) {
                            if (wy[a] != 0 && wx[b] != 0) {
                                acc += wy[a] * wx[b] * src[(c * h + iy[a]) * w + ix[b]];
                            }
                        }
                    }
                    out[(c * outH + oy) * outW + ox] = acc;
                }
            }
        }
        return out;
    }

    /** Tap weights of output {@code o} along an axis of {@code in -> out}; fills the 4 source indices. */
    static double[] weights(int o, int in, int out, int[] index) {
        double pos = (o + 0.5) * in / out - 0.5;
        int base = (int) Math.floor(pos);
        double t = Math.round((pos - base) * 1024) / 1024.0;
        double[] wt = new double[4];
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            int j = base - 1 + k;
            index[k] = Math.max(0, Math.min(in - 1, j));
            wt[k] = j >= 0 && j < in ? keys(t - (k - 1)) : 0;
            sum += wt[k];
        }
        for (int k = 0; k < 4; k++) {
            wt[k] /= sum;
        }
        return wt;
    }

    /** Keys cubic convolution kernel, a = -0.5. */
    static double keys(double x) {
        double a = -0.5;
        double ax = Math.abs(x);
        if (ax <= 1) {
            return (a + 2) * ax * ax * ax - (a + 3) * ax * ax + 1;
        }
        if (ax < 2) {
            return a * ax * ax * ax - 5 * a * ax * ax + 8 * a * ax - 4 * a;
        }
        return 0;
    }
}
