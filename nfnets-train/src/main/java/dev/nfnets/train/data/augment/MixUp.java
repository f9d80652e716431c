package dev.nfnets.train.data.augment;

import java.util.SplittableRandom;

/**
 * MixUp (Zhang et al. 2018) of two examples: {@code x = lam * a + (1 - lam) * b},
 * {@code y = lam * y_a + (1 - lam) * y_b} with {@code lam ~ Beta(alpha, alpha)} drawn per pair (reference:
 * alpha 0.2).
 */
public final class MixUp {
    private final double alpha;

    public MixUp(double alpha) {
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("MixUp alpha must be positive, got " + alpha);
        }
        this.alpha = alpha;
    }

    public double alpha() {
        return alpha;
    }

    /** Draws the weight {@code lam} of the first example. */
    public float sampleLambda(SplittableRandom rng) {
        return (float) Sampling.beta(alpha, alpha, rng);
    }

    /**
     * {@code dst[dOff + i] = lam * a[aOff + i] + (1 - lam) * b[bOff + i]} for {@code i < len}; works for images
     * and for target rows alike. {@code dst} may alias {@code a} or {@code b} at the same offset.
     */
    public static void blend(float[] a, int aOff, float[] b, int bOff, float[] dst, int dOff, int len, float lam) {
        float mu = 1f - lam;
        for (int i = 0; i < len; i++) {
            dst[dOff + i] = lam * a[aOff + i] + mu * b[bOff + i];
        }
    }

    @Override
    public String toString() {
        return "MixUp(alpha=" + alpha + ")";
    }
}
