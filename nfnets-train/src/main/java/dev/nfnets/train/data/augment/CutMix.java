package dev.nfnets.train.data.augment;

import java.util.SplittableRandom;

/**
 * CutMix (Yun et al. 2019) of two examples, with the box of the NFNet reference: centre {@code (ry, rx)}
 * uniform integers in {@code [0,H) x [0,W)}; with {@code u ~ U(0,1)} the side lengths are
 * {@code int(sqrt(1-u) * H)} and {@code int(sqrt(1-u) * W)}; the box is centre +- half side (floor of side/2),
 * clipped to the image. Pixels inside the box come from the <em>first</em> image, the rest from the second,
 * and the label weight of the first image is the covered fraction {@code ratio = boxArea / (H*W)}.
 */
public final class CutMix {
    private CutMix() {
    }

    /** A box {@code [y0, y1) x [x0, x1)} inside an {@code H x W} image. */
    public record Box(int y0, int x0, int y1, int x1) {
        public int area() {
            return Math.max(0, y1 - y0) * Math.max(0, x1 - x0);
        }

        public boolean contains(int y, int x) {
            return y >= y0 && y < y1 && x >= x0 && x < x1;
        }
    }

    /** Draws a box for an {@code h x w} image (draw order: u, ry, rx). */
    public static Box sampleBox(int h, int w, SplittableRandom rng) {
        double u = rng.nextDouble();
        int ry = rng.nextInt(h);
        int rx = rng.nextInt(w);
        double cut = Math.sqrt(1.0 - u);
        int cutH = (int) (cut * h);
        int cutW = (int) (cut * w);
        int y0 = clamp(ry - cutH / 2, h);
        int y1 = clamp(ry + cutH / 2, h);
        int x0 = clamp(rx - cutW / 2, w);
        int x1 = clamp(rx + cutW / 2, w);
        return new Box(y0, x0, y1, x1);
    }

    private static int clamp(int v, int hi) {
        return Math.max(0, Math.min(hi, v));
    }

    /**
     * Writes into {@code dst} (one CHW example at {@code dOff}) the second image with the box pasted from
     * the first, and returns the label weight of the first image (box area over image area).
     * {@code dst} may alias either input at the same offset.
     */
    public static float paste(float[] first, int fOff, float[] second, int sOff, float[] dst, int dOff,
                              int channels, int h, int w, Box box) {
        int plane = h * w;
        if (dst != second || dOff != sOff) {
            System.arraycopy(second, sOff, dst, dOff, channels * plane);
        }
        int bw = box.x1() - box.x0();
        if (bw > 0) {
            for (int c = 0; c < channels; c++) {
                for (int y = box.y0(); y < box.y1(); y++) {
                    int o = c * plane + y * w + box.x0();
                    System.arraycopy(first, fOff + o, dst, dOff + o, bw);
                }
            }
        }
        return (float) box.area() / plane;
    }
}
