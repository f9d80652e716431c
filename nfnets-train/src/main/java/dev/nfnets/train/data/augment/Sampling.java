package dev.nfnets.train.data.augment;

import java.util.SplittableRandom;

/**
 * Random variates not offered by {@link SplittableRandom}: standard normal, Gamma (Marsaglia and Tsang
 * 2000) and Beta (as a ratio of two Gamma draws), all drawn only from the given generator.
 */
public final class Sampling {
    private Sampling() {
    }

    /** Standard normal by the Marsaglia polar method (one value per call; the spare is discarded). */
    public static double normal(SplittableRandom rng) {
        double u;
        double v;
        double s;
        do {
            u = 2 * rng.nextDouble() - 1;
            v = 2 * rng.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }

    /** A uniform draw in the open interval (0, 1). */
    public static double openUniform(SplittableRandom rng) {
        double u;
        do {
            u = rng.nextDouble();
        } while (u == 0);
        return u;
    }

    /**
     * Natural log of a Gamma(shape, 1) draw. Working in logs keeps small shapes (where draws underflow to
     * 0 in double) usable, e.g. for Beta(0.2, 0.2).
     */
    public static double logGamma(double shape, SplittableRandom rng) {
        if (!(shape > 0) || Double.isInfinite(shape)) {
            throw new IllegalArgumentException("Gamma shape must be positive and finite, got " + shape);
        }
        if (shape < 1) {
            // Gamma(a) = Gamma(a + 1) * U^(1/a)
            double boost = Math.log(openUniform(rng)) / shape;
            return logGamma(shape + 1, rng) + boost;
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.sqrt(9 * d);
        while (true) {
            double x = normal(rng);
            double t = 1 + c * x;
            if (t <= 0) {
                continue;
            }
            double v = t * t * t;
            double u = openUniform(rng);
            double x2 = x * x;
            if (u < 1 - 0.0331 * x2 * x2) {
                return Math.log(d * v);
            }
            if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) {
                return Math.log(d * v);
            }
        }
    }

    /** A Gamma(shape, 1) draw. */
    public static double gamma(double shape, SplittableRandom rng) {
        return Math.exp(logGamma(shape, rng));
    }

    /** A Beta(a, b) draw: {@code X / (X + Y)} with {@code X ~ Gamma(a)}, {@code Y ~ Gamma(b)}. */
    public static double beta(double a, double b, SplittableRandom rng) {
        double lx = logGamma(a, rng);
        double ly = logGamma(b, rng);
        // X / (X + Y) = 1 / (1 + exp(ly - lx)), stable for tiny or huge values
        double diff = ly - lx;
        if (diff > 0) {
            double e = Math.exp(-diff);
            return e / (1 + e);
        }
        return 1 / (1 + Math.exp(diff));
    }
}
