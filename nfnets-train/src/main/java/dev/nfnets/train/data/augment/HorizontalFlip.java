package dev.nfnets.train.data.augment;

import java.util.SplittableRandom;

/**
 * Mirrors the image left-right with probability {@code p} (reference: {@code random_flip_left_right},
 * p = 0.5). Exactly one uniform draw is taken per call, flipped or not. Works in place.
 */
public final class HorizontalFlip implements Augmentation {
    private final double p;

    /** Flip with probability 0.5. */
    public HorizontalFlip() {
        this(0.5);
    }

    /** Flip with probability {@code p} in [0, 1]. */
    public HorizontalFlip(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("flip probability must be in [0,1], got " + p);
        }
        this.p = p;
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom rng) {
        if (rng.nextDouble() < p) {
            flipInPlace(image);
        }
        return image;
    }

    /** Mirrors every row of every channel, in place. */
    public static void flipInPlace(FloatImage image) {
        float[] d = image.data();
        int w = image.width();
        int rows = image.channels() * image.height();
        for (int r = 0; r < rows; r++) {
            int a = r * w;
            int b = a + w - 1;
            while (a < b) {
                float t = d[a];
                d[a++] = d[b];
                d[b--] = t;
            }
        }
    }

    @Override
    public String toString() {
        return "HorizontalFlip(p=" + p + ")";
    }
}
