package dev.nfnets.train.data;

import java.util.SplittableRandom;

/**
 * Derives independent, reproducible random streams from a base seed and a tuple of coordinates
 * (stream tag, epoch, index, ...), so that any piece of randomness can be recreated on its own, in any
 * order and on any thread: the draws for example 17 of epoch 3 do not depend on which examples were
 * processed before it.
 *
 * <p>The mixing function is the SplitMix64 finaliser applied along the tuple.
 */
public final class Seeds {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private Seeds() {
    }

    /** SplitMix64 finaliser: a bijective 64-bit hash with good avalanche. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A seed that depends on {@code seed} and every element of {@code coordinates}, in order. */
    public static long derive(long seed, long... coordinates) {
        long h = mix64(seed + GOLDEN);
        for (long c : coordinates) {
            h = mix64(h + GOLDEN + mix64(c ^ 0x5DEECE66DL));
        }
        return h;
    }

    /** A fresh generator seeded with {@link #derive(long, long...)}. */
    public static SplittableRandom rng(long seed, long... coordinates) {
        return new SplittableRandom(derive(seed, coordinates));
    }
}
