package dev.nfnets.layers;

import dev.nfnets.layers.memory.NativeThreads;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Java loops directly over the native memory of large, dense FLOAT arrays, split over the cores: for the
 * per-parameter arithmetic of a training step (weight standardisation, AGC, SGD, EMA) on tensors too large
 * for {@link HostArrays}' copies.
 *
 * <p>Why: ND4J reduces a c-order {@code (rows, units)} matrix along dimension 0 one strided column at a time
 * (about 1 s per step for the column means and variances of NFNet-F0's 71.5M weights on two cores), and an
 * update written as a chain of in-place ops makes one pass over memory per op (a Nesterov SGD step with
 * weight decay is five). A loop here makes one pass for the whole formula, reads rows in order while
 * accumulating per-column sums in double precision, and writes nothing it does not need. Measured in
 * docs/BENCHMARKS.md (commit 56db787, 2026-11-30).
 *
 * <p>Results do not depend on the thread count: column sums are split by blocks of rows whose partial sums are
 * added in block order, element-wise passes by ranges. The option {@code nfnets.floatKernels=false}
 * ({@link NFNetsOptions#floatKernels()}) turns these paths off, for comparisons with the native ones.
 */
public final class FloatKernels {
    /**
     * Below this much work (the pass's size as its caller counts it: elements, or elements times buffers) a pass runs
     * on the calling thread only. Handing a pass to the pool's worker costs about 100 us here (waking it and waiting
     * for its last range), in which one thread streams about 4 MB of floats. While column sums split the columns
     * over the threads (which made them slower on two threads than on one), 1M and 32K gave the same step time;
     * since they split blocks of rows, 256K gives 1-5% shorter steps than 1M (F0 and F1 at 128 px, batch 8, the two
     * thresholds in turn in one process) and 64K no more than 256K (docs/BENCHMARKS.md).
     */
    static final int PARALLEL_MIN = 1 << 18;

    private static volatile int threads = -1;
    private static volatile ExecutorService pool;

    private FloatKernels() {
    }

    /** A pass over {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** True when the options allow the kernels and every array is a whole, contiguous, c-order FLOAT buffer. */
    public static boolean eligible(NFNetsOptions options, INDArray... arrays) {
        return options.floatKernels() && dense(arrays);
    }

    /** True when every array is a whole, contiguous, c-order FLOAT buffer (what {@link #floats} needs). */
    public static boolean dense(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (!denseFloat(a)) {
                return false;
            }
        }
        return true;
    }

    private static boolean denseFloat(INDArray a) {
        return a != null && a.dataType() == DataType.FLOAT && a.length() > 0 && a.length() <= Integer.MAX_VALUE
                && Shapes.wholeInCOrder(a);
    }

    /** The array's native memory as a float buffer (index 0 = first element); the array must be {@link #eligible}. */
    public static FloatBuffer floats(INDArray a) {
        if (!denseFloat(a)) {
            throw new IllegalArgumentException("FloatKernels: array " + (a == null ? "null" : Shapes.str(a.shape()) + " of "
                    + a.dataType()) + " is not a whole, contiguous c-order FLOAT buffer");
        }
        FloatBuffer b = a.data().asNioFloat();
        if (b.capacity() < a.length()) {
            throw new IllegalStateException("FloatKernels: buffer of " + b.capacity() + " floats for " + a.length() + " elements");
        }
        return b;
    }

    /** Threads the passes use: ND4J's OpenMP thread count, at most the available processors. */
    public static int threads() {
        int t = threads;
        if (t < 1) {
            t = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), NativeThreads.current()));
            threads = t;
        }
        return t;
    }

    /** Sets the thread count of the passes (called by {@link NativeThreads#set}). */
    public static void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("FloatKernels threads must be >= 1, got " + n);
        }
        threads = n;
    }

    /** Runs {@code body} over {@code [0, n)} split into contiguous ranges, one per thread, and waits for all. */
    public static void parallel(int n, Range body) {
        parallel(n, n, body);
    }

    /**
     * Splits {@code [0, n)} into ranges when the pass touches at least {@code work} elements (else runs it on the
     * calling thread) and waits for all; the first exception is rethrown. The calling thread and the pool's workers
     * claim the ranges in turn, so a worker that wakes late leaves its ranges to the caller instead of making it wait.
     * A training step of NFNet-F0 at 128 px makes 615 of these passes; with one fixed range per thread the caller
     * spent 110-130 ms per step waiting for the worker beyond its own share, with claimed ranges 50-60 ms. Which
     * thread runs a range does not change its result.
     */
    public static void parallel(int n, long work, Range body) {
        int t = Math.min(threads(), n);
        if (t <= 1 || work < PARALLEL_MIN) {
            body.run(0, n);
            return;
        }
        Job job = new Job(n, Math.min(n, t * RANGES_PER_THREAD), body);
        ExecutorService p = pool(t);
        for (int i = 1; i < t; i++) {
            p.execute(job::claimAll);
        }
        job.claimAll();
        job.await();
    }

    /** Ranges per thread of a {@link #parallel} pass: a late worker's share is taken over in pieces. */
    static final int RANGES_PER_THREAD = 2;

    /** One {@link #parallel} pass: ranges claimed by whoever comes first, counted down as they finish. */
    private static final class Job {
        private final int n;
        private final int ranges;
        private final Range body;
        private final Thread caller = Thread.currentThread();
        private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicInteger unfinished;
        private final java.util.concurrent.atomic.AtomicReference<Throwable> first =
                new java.util.concurrent.atomic.AtomicReference<>();

        Job(int n, int ranges, Range body) {
            this.n = n;
            this.ranges = ranges;
            this.body = body;
            this.unfinished = new java.util.concurrent.atomic.AtomicInteger(ranges);
        }

        void claimAll() {
            for (int i = next.getAndIncrement(); i < ranges; i = next.getAndIncrement()) {
                try {
                    body.run((int) ((long) n * i / ranges), (int) ((long) n * (i + 1) / ranges));
                } catch (Throwable e) {
                    first.compareAndSet(null, e);
                }
                if (unfinished.decrementAndGet() == 0 && Thread.currentThread() != caller) {
                    java.util.concurrent.locks.LockSupport.unpark(caller);
                }
            }
        }

        /** Waits (spinning briefly, then parked) until every range has finished; rethrows the first failure. */
        void await() {
            for (int spin = 0; unfinished.get() > 0; spin++) {
                if (spin < SPINS) {
                    Thread.onSpinWait();
                } else {
                    java.util.concurrent.locks.LockSupport.park(this);
                }
            }
            Throwable e = first.get();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            if (e instanceof Error err) {
                throw err;
            }
            if (e != null) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Spin-waits of the caller before it parks (a worker's last range usually ends within microseconds). */
    private static final int SPINS = 2000;

    /** Elements per chunk of {@link #map}: a few 16 KB arrays per thread, which stay in the core's caches. */
    static final int CHUNK = 4096;

    /**
     * The element-wise body of {@link #map}: reads {@code in[k][0..count)}, writes {@code out[k][0..count)}, may
     * use {@code scratch[0..count)} (double precision) freely.
     */
    @FunctionalInterface
    public interface ChunkBody {
        void run(float[][] in, float[][] out, double[] scratch, int count);
    }

    /**
     * An element-wise pass over {@code n} floats of each buffer: every thread takes a range and walks it in
     * {@link #CHUNK}-element chunks, copying the inputs into Java arrays, running {@code body} and copying the
     * outputs back. Loops over Java arrays are vectorised by the JIT, loops over buffer elements are not (F0's
     * GELU layers, forward and backward: 50 -> 22 ms per 7.4M elements; docs/BENCHMARKS.md; commit a9893f4, 2026-11-30). An
     * output buffer may also be an input (in place): each chunk is read before it is written. The chunk arrays
     * are reused per thread, so {@code body} must not keep them or call {@code map} itself.
     */
    public static void map(int n, FloatBuffer[] in, FloatBuffer[] out, ChunkBody body) {
        parallel(n, (long) n * (in.length + out.length), (from, to) -> {
            Scratch sc = SCRATCH.get();
            float[][] ia = sc.floats(0, in.length);
            float[][] oa = sc.floats(in.length, out.length);
            for (int s = from; s < to; s += CHUNK) {
                int m = Math.min(CHUNK, to - s);
                for (int k = 0; k < in.length; k++) {
                    in[k].get(s, ia[k], 0, m);
                }
                body.run(ia, oa, sc.doubles, m);
                for (int k = 0; k < out.length; k++) {
                    out[k].put(s, oa[k], 0, m);
                }
            }
        });
    }

    /**
     * {@code sum(a[0..n))}: eight independent float partial sums (vectorised; a single running sum waits on each
     * addition), added in double.
     */
    public static double sum(float[] a, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 7 < n; i += 8) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
            s4 += a[i + 4];
            s5 += a[i + 5];
            s6 += a[i + 6];
            s7 += a[i + 7];
        }
        for (; i < n; i++) {
            s0 += a[i];
        }
        return ((double) s0 + s1) + ((double) s2 + s3) + ((double) s4 + s5) + ((double) s6 + s7);
    }

    /** {@code sum(a[i] * b[i])} over {@code i < n}, accumulated as {@link #sum}. */
    public static double dot(float[] a, float[] b, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 7 < n; i += 8) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
            s4 += a[i + 4] * b[i + 4];
            s5 += a[i + 5] * b[i + 5];
            s6 += a[i + 6] * b[i + 6];
            s7 += a[i + 7] * b[i + 7];
        }
        for (; i < n; i++) {
            s0 += a[i] * b[i];
        }
        return ((double) s0 + s1) + ((double) s2 + s3) + ((double) s4 + s5) + ((double) s6 + s7);
    }

    /** Per-thread chunk arrays of {@link #map}, reused across calls (a training step makes hundreds). */
    private static final class Scratch {
        private float[][] arrays = new float[0][];
        final double[] doubles = new double[CHUNK];

        /** {@code count} chunk arrays starting at slot {@code first} (slots never overlap within one call). */
        float[][] floats(int first, int count) {
            if (arrays.length < first + count) {
                float[][] grown = java.util.Arrays.copyOf(arrays, first + count);
                for (int i = arrays.length; i < grown.length; i++) {
                    grown[i] = new float[CHUNK];
                }
                arrays = grown;
            }
            return java.util.Arrays.copyOfRange(arrays, first, first + count);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static ExecutorService pool(int t) {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (FloatKernels.class) {
                p = pool;
                if (p == null) {
                    int workers = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
                    p = Executors.newFixedThreadPool(workers, r -> {
                        Thread th = new Thread(r, "nfnets-float-kernels");
                        th.setDaemon(true);
                        return th;
                    });
                    pool = p;
                }
            }
        }
        return p;
    }

    /** What {@link #columnReduce} accumulates per column {@code c} over the rows {@code r}. */
    public enum ColumnSum {
        /** {@code out1[c] += a[r, c]}. */
        SUM,
        /** {@code out1[c] += a[r, c]^2}. */
        SQUARES,
        /** {@code out1[c] += a[r, c]} and {@code out2[c] += a[r, c] (b[r, c] - center[c])}. */
        SUM_AND_CENTRED_PRODUCT,
        /**
         * {@code out1[c] += d} and {@code out2[c] += d^2} with {@code d = a[r, c] - center[c]}: a column's mean and
         * centred sum of squares in one pass, {@code mean = center + out1 / rows},
         * {@code sum((a - mean)^2) = out2 - out1^2 / rows}; with a center near the column's values (its first
         * entry, say) the subtraction loses no more than a pass of centred squares after a pass for the mean would.
         */
        SHIFTED_SUM_AND_SQUARES
    }

    /** Rows summed in float before their partial sums are added to the double totals. */
    static final int ROW_BLOCK = 32;

    /**
     * Per-column sums over the rows of c-order {@code (rows, cols)} matrices. The rows go in blocks of
     * {@link #ROW_BLOCK}: a block's rows are copied to a Java array one whole row at a time and accumulated per
     * column in float (loops the JIT vectorises: 2.4x faster than summing straight from the buffer in double), and
     * each block's float partials are added to the double totals in block order. With more than one thread the
     * threads take ranges of blocks and keep each block's partials, which the caller then adds in block order: the
     * same additions in the same order as on one thread, so the results do not depend on the thread count.
     *
     * <p>Why blocks of rows and not ranges of columns per thread: each thread then streams whole rows, where a column
     * range read a short piece of every row and skipped the rest. For forty 1536 x 768 kernels on two threads, a sum
     * of squares and the standardisation's backward sums over each took 55-63 ms by column ranges and 25-35 ms by
     * row blocks (the same bits), and stepping F1 (128 px, batch 8) with the two splits in turn in one process gave
     * steps about 4% shorter in three of four runs (docs/BENCHMARKS.md). Workers write their blocks' partials into
     * the calling thread's array, so a pass must not start another on the same thread.
     */
    public static void columnReduce(ColumnSum kind, FloatBuffer a, FloatBuffer b, int rows, int cols, double[] center,
                                    double[] out1, double[] out2) {
        boolean two = kind == ColumnSum.SUM_AND_CENTRED_PRODUCT || kind == ColumnSum.SHIFTED_SUM_AND_SQUARES;
        float[] ctr = new float[cols];
        if (center != null) {
            for (int c = 0; c < cols; c++) {
                ctr[c] = (float) center[c];
            }
        }
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        if (Math.min(threads(), blocks) <= 1 || (long) rows * cols < PARALLEL_MIN) {
            float[] ra = new float[cols];
            float[] rb = kind == ColumnSum.SUM_AND_CENTRED_PRODUCT ? new float[cols] : null;
            float[] p1 = new float[cols];
            float[] p2 = two ? new float[cols] : null;
            for (int blk = 0; blk < blocks; blk++) {
                blockSums(kind, a, b, rows, cols, ctr, blk, ra, rb, p1, p2);
                addTo(out1, p1, 0, cols);
                if (two) {
                    addTo(out2, p2, 0, cols);
                }
            }
            return;
        }
        int len = blocks * cols;
        float[] partials = blockPartials(two ? 2 * len : len);
        parallel(blocks, (long) rows * cols, (b0, b1) -> {
            float[] ra = new float[cols];
            float[] rb = kind == ColumnSum.SUM_AND_CENTRED_PRODUCT ? new float[cols] : null;
            float[] p1 = new float[cols];
            float[] p2 = two ? new float[cols] : null;
            for (int blk = b0; blk < b1; blk++) {
                blockSums(kind, a, b, rows, cols, ctr, blk, ra, rb, p1, p2);
                System.arraycopy(p1, 0, partials, blk * cols, cols);
                if (two) {
                    System.arraycopy(p2, 0, partials, len + blk * cols, cols);
                }
            }
        });
        for (int blk = 0; blk < blocks; blk++) {
            addTo(out1, partials, blk * cols, cols);
            if (two) {
                addTo(out2, partials, len + blk * cols, cols);
            }
        }
    }

    /** {@code out[c] += p[from + c]} for {@code c < cols}. */
    private static void addTo(double[] out, float[] p, int from, int cols) {
        for (int c = 0; c < cols; c++) {
            out[c] += p[from + c];
        }
    }

    /** The calling thread's array for the block partials of a {@link #columnReduce}, at least {@code n} long. */
    private static float[] blockPartials(int n) {
        float[] p = BLOCK_PARTIALS.get();
        if (p.length < n) {
            p = new float[n];
            BLOCK_PARTIALS.set(p);
        }
        return p;
    }

    private static final ThreadLocal<float[]> BLOCK_PARTIALS = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * The float partial sums of row block {@code blk} into {@code p1} (and {@code p2}), rows in order; {@code ra}
     * and {@code rb} hold one row. Every array is indexed from 0, so the JIT vectorises the loops.
     */
    private static void blockSums(ColumnSum kind, FloatBuffer a, FloatBuffer b, int rows, int cols, float[] ctr, int blk,
                                  float[] ra, float[] rb, float[] p1, float[] p2) {
        java.util.Arrays.fill(p1, 0f);
        if (p2 != null) {
            java.util.Arrays.fill(p2, 0f);
        }
        int r1 = Math.min(rows, (blk + 1) * ROW_BLOCK);
        for (int r = blk * ROW_BLOCK; r < r1; r++) {
            a.get(r * cols, ra, 0, cols);
            switch (kind) {
                case SUM -> {
                    for (int c = 0; c < cols; c++) {
                        p1[c] += ra[c];
                    }
                }
                case SQUARES -> {
                    for (int c = 0; c < cols; c++) {
                        p1[c] += ra[c] * ra[c];
                    }
                }
                case SUM_AND_CENTRED_PRODUCT -> {
                    b.get(r * cols, rb, 0, cols);
                    for (int c = 0; c < cols; c++) {
                        p1[c] += ra[c];
                        p2[c] += ra[c] * (rb[c] - ctr[c]);
                    }
                }
                case SHIFTED_SUM_AND_SQUARES -> {
                    for (int c = 0; c < cols; c++) {
                        float d = ra[c] - ctr[c];
                        p1[c] += d;
                        p2[c] += d * d;
                    }
                }
            }
        }
    }

    /** Per-column sums of a c-order {@code (rows, cols)} matrix: {@code sums[c] += a[r, c]}. */
    public static void columnSums(FloatBuffer a, int rows, int cols, double[] sums) {
        columnReduce(ColumnSum.SUM, a, null, rows, cols, null, sums, null);
    }

    /** Per-column sums of squares of a c-order {@code (rows, cols)} matrix. */
    public static void columnSquares(FloatBuffer a, int rows, int cols, double[] squares) {
        columnReduce(ColumnSum.SQUARES, a, null, rows, cols, null, squares, null);
    }
}
