package dev.nfnets.layers.memory;

/**
 * Keeps ND4J's native bookkeeping from piling up. Even arrays whose data lives in a {@link StepScope}
 * workspace carry a small native descriptor and an entry in ND4J's deallocation registry, both released
 * only after the GC has collected the Java wrapper. A training loop creates thousands of such wrappers per
 * step; with a large heap the GC rarely runs, and resident memory grew by about 1 MB per step in a
 * Fashion-MNIST run (3.9 GB after 1,000 steps, back to 3.2 GB after one collection). Collecting every
 * hundred steps keeps it flat for well under 1% of the step time.
 */
public final class NativeMemory {
    /** Default cadence of {@link #collectEvery}. */
    public static final int DEFAULT_EVERY = 100;

    private NativeMemory() {
    }

    /** Runs a garbage collection when {@code step} is a positive multiple of {@code every}. */
    public static void collectEvery(long step, int every) {
        if (every > 0 && step > 0 && step % every == 0) {
            System.gc();
        }
    }
}
