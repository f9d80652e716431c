package dev.nfnets.train.data.augment;

import java.util.SplittableRandom;

/**
 * The CIFAR-style crop: pad every side by {@code pad} pixels of {@code fill}, then take a random crop of
 * the original size. Offsets {@code dy, dx} are drawn uniformly from {@code [0, 2*pad]} (two draws, y
 * then x), so {@code out(y, x) = in(y + dy - pad, x + dx - pad)}, or {@code fill} outside the input.
 *
 * <p>The fill is in the image's own units: for normalised images the default 0 is the dataset mean (the
 * "zero of the normalised image"); pass {@code normalization.normalize(c, 0)} to pad with black instead.
 */
public final class RandomCropWithPadding implements Augmentation {
    private final int pad;
    private final float fill;

    /** Padding {@code pad} with fill 0. */
    public RandomCropWithPadding(int pad) {
        this(pad, 0f);
    }

    /** Padding {@code pad} (at least 0) with the given fill value. */
    public RandomCropWithPadding(int pad, float fill) {
        if (pad < 0) {
            throw new IllegalArgumentException("pad must be >= 0, got " + pad);
        }
        this.pad = pad;
        this.fill = fill;
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom rng) {
        int dy = rng.nextInt(2 * pad + 1);
        int dx = rng.nextInt(2 * pad + 1);
        return shift(image, dy - pad, dx - pad, fill);
    }

    /**
     * {@code out(y, x) = in(y + sy, x + sx)}, {@code fill} where that is outside the input; same shape, new
     * array.
     */
    public static FloatImage shift(FloatImage image, int sy, int sx, float fill) {
        int c = image.channels();
        int h = image.height();
        int w = image.width();
        float[] src = image.data();
        float[] dst = new float[src.length];
        java.util.Arrays.fill(dst, fill);
        int x0 = Math.max(0, -sx);
        int x1 = Math.min(w, w - sx);
        if (x1 > x0) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    int iy = y + sy;
                    if (iy < 0 || iy >= h) {
                        continue;
                    }
                    System.arraycopy(src, (ch * h + iy) * w + x0 + sx, dst, (ch * h + y) * w + x0, x1 - x0);
                }
            }
        }
        return new FloatImage(dst, c, h, w);
    }

    @Override
    public String toString() {
        return "RandomCropWithPadding(pad=" + pad + ", fill=" + fill + ")";
    }
}
