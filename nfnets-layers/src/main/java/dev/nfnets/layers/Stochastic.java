package dev.nfnets.layers;

import java.util.SplittableRandom;

/**
 * A layer that draws random numbers in training mode. The trainer reseeds every stochastic layer before
 * each step from (run seed, step, layer index), so a run is reproducible and a resumed run continues
 * with exactly the same draws, without saving native RNG state.
 *
 * <p>Draws are per example: example {@code i} of the next forward pass draws from its own generator,
 * {@link #exampleRandom(long, long) exampleRandom(seed, firstExample + i)}, so an example's mask depends on
 * the step seed and its position in the step's global batch only, never on which other examples share the
 * forward pass. A batch split into shards (data-parallel workers, each passing the position of its first
 * example) therefore draws exactly the masks the whole batch draws in one pass.
 */
public interface Stochastic {
    /** Reseeds for a forward pass whose first example is example {@code firstExample} of the global batch. */
    void reseed(long seed, long firstExample);

    /** {@link #reseed(long, long) reseed(seed, 0)}: the forward pass holds the whole batch. */
    default void reseed(long seed) {
        reseed(seed, 0);
    }

    /** The generator of example {@code example} under {@code seed} (SplitMix64 finaliser over both). */
    static SplittableRandom exampleRandom(long seed, long example) {
        return new SplittableRandom(mix64(mix64(seed + 0x9E3779B97F4A7C15L) + example * 0xBF58476D1CE4E5B9L + 0x632BE59BD9B4E019L));
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
