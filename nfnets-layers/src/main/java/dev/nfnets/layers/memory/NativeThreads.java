package dev.nfnets.layers.memory;

import dev.nfnets.layers.FloatKernels;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many threads the native ops of the calling thread use: OpenMP (and so oneDNN) and ND4J's master-thread
 * limit. ND4J's own worker pool keeps the size it was started with ({@code OMP_NUM_THREADS}, else the core
 * count): only the environment variable sets everything.
 *
 * <p>Small models are faster on one thread. A {@code nfnet-mnist} training step at batch 128 is hundreds of
 * small ops; with two threads each op pays an OpenMP fork and barrier, and the idle worker spins in
 * {@code sched_yield} while the main thread runs Java code (the batch loader, the optimizer's host loops),
 * competing with it for the two cores. Measured in a full Fashion-MNIST run: 0.40 s per step on one thread,
 * 0.75 s on two (docs/BENCHMARKS.md). Large models (F0) need every core for their convolutions.
 *
 * <p>ND4J's {@code Environment.setMaxThreads} alone does not change OpenMP's or oneDNN's thread count (the
 * measured CPU time stays twice the wall time); {@link #set} also sets OpenMP's for the calling thread, which
 * is what the environment variable {@code OMP_NUM_THREADS} does for the whole process.
 */
public final class NativeThreads {
    /** Below this many multiply-accumulates per image, {@link #auto} picks one thread. */
    public static final long SMALL_MODEL_MACS = 100_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(NativeThreads.class);

    private NativeThreads() {
    }

    /** OpenMP's thread count for the calling thread (ND4J's master-thread limit if OpenMP cannot be asked). */
    public static int current() {
        try {
            Object ops = nativeOps();
            return (Integer) ops.getClass().getMethod("ompGetMaxThreads").invoke(ops);
        } catch (ReflectiveOperationException | LinkageError e) {
            return Nd4j.getEnvironment().maxMasterThreads();
        }
    }

    private static Object nativeOps() throws ReflectiveOperationException {
        Nd4j.getExecutioner(); // the backend loads the native library first; NativeOpsHolder fails without it
        Class<?> holder = Class.forName("org.nd4j.nativeblas.NativeOpsHolder");
        return holder.getMethod("getDeviceNativeOps").invoke(holder.getMethod("getInstance").invoke(null));
    }

    /** Sets the native thread count for ops run from the calling thread (and ND4J's limits process-wide). */
    public static void set(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("native threads must be >= 1, got " + threads);
        }
        // M2.1's Environment.setMaxThreads is a no-op (libnd4j's own pool keeps the size it started with);
        // the master-thread limit and OpenMP's count do change
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        FloatKernels.setThreads(Math.min(threads, Math.max(1, Runtime.getRuntime().availableProcessors())));
        try {
            // nd4j-native's NativeOps (a runtime dependency of nd4j-native, not of nd4j-api): omp_set_num_threads
            Object ops = nativeOps();
            ops.getClass().getMethod("setOmpNumThreads", int.class).invoke(ops, threads);
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.warn("could not set OpenMP's thread count to {} ({}); set OMP_NUM_THREADS instead", threads, e.toString());
        }
    }

    /**
     * The thread count for training a model with {@code macsPerImage} multiply-accumulates per image: one below
     * {@link #SMALL_MODEL_MACS}, else {@code available}.
     */
    public static int auto(long macsPerImage, int available) {
        return macsPerImage < SMALL_MODEL_MACS ? 1 : Math.max(1, available);
    }
}
