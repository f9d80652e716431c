package dev.nfnets.train.data;

import dev.nfnets.train.data.augment.Augmentation;
import dev.nfnets.train.data.augment.BatchMixer;
import dev.nfnets.train.data.augment.FloatImage;
import dev.nfnets.train.data.augment.LabelSmoothing;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a {@link Dataset} into {@link Batch}es: shuffled, augmented, mixed, prepared ahead on a background
 * thread.
 *
 * <p><b>Order.</b> Epoch {@code e} visits the examples in a permutation derived from {@code (seed, e)}
 * only (identity when shuffling is off). Batch {@code b} takes the consecutive positions
 * {@code [b*D, (b+1)*D)} of it, where {@code D} is the number of examples drawn per batch: the batch size,
 * or the mixer's {@link BatchMixer#inputSize input size} (twice the batch size for the reference
 * MixUp/CutMix). With drop-last the incomplete tail is skipped; otherwise it forms a smaller last batch.
 *
 * <p><b>Per batch</b>, in the reference order: each example is read ({@link Dataset#get}, or
 * {@link Dataset#original} with {@link Builder#augmentOriginals(boolean)}) and passed through the per-example
 * {@code augmentation} (crop, flip, ...) with a generator seeded by {@code (seed, epoch, example index)};
 * targets are one-hot; the optional {@link BatchMixer} combines the batch with a generator seeded by
 * {@code (seed, epoch, batch index)}; the optional {@code postMixAugmentation} (RandAugment, applied after
 * mixing as the reference does) runs on each output example with a generator seeded by
 * {@code (seed, epoch, batch index, position)}; finally label smoothing, if set, is applied to the targets.
 * Since every random draw depends only on these coordinates, batch {@code (e, b)} is identical whether it
 * is produced in a full pass, by {@link #iterator(long, int)} resumed at {@code b}, or by
 * {@link #load(long, int)}, and regardless of {@code workers}.
 *
 * <p><b>Threads.</b> {@link #iterator(long, int)} starts one daemon thread that prepares up to
 * {@code prefetch} batches ahead in a bounded queue (with {@code workers > 1} it decodes the examples of a
 * batch on a private fork-join pool of that many threads). INDArrays are created on that thread, outside
 * any workspace. An exception there is rethrown to the consumer by {@code hasNext()/next()} as a
 * {@link LoadingException}. {@link BatchIterator#close()} stops the thread (and pool); always close
 * iterators, e.g. with try-with-resources, when leaving an epoch early.
 */
public final class BatchLoader {
    private static final Logger LOG = LoggerFactory.getLogger(BatchLoader.class);
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();
    private static final long STREAM_ORDER = 0x4F52444552L;
    private static final long STREAM_EXAMPLE = 0x4558414D50L;
    private static final long STREAM_MIX = 0x4D4958L;
    private static final long STREAM_POST = 0x504F5354L;

    private final Dataset dataset;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final boolean dropLast;
    private final Augmentation augmentation;
    private final BatchMixer mixer;
    private final Augmentation postMixAugmentation;
    private final double labelSmoothing;
    private final int prefetch;
    private final int workers;
    private final boolean augmentOriginals;
    private final int[] shape;
    private volatile CachedOrder cachedOrder;

    private record CachedOrder(long epoch, int[] order) {
    }

    /** Raised to the consumer when preparing a batch failed. */
    public static final class LoadingException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LoadingException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private BatchLoader(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.augmentation = b.augmentation == null ? Augmentation.identity() : b.augmentation;
        this.mixer = b.mixer;
        this.postMixAugmentation = b.postMixAugmentation;
        this.labelSmoothing = b.labelSmoothing;
        this.prefetch = b.prefetch;
        this.workers = b.workers;
        this.augmentOriginals = b.augmentOriginals;
        this.shape = augmentation.outputShape(dataset.channels(), dataset.height(), dataset.width());
        if (postMixAugmentation != null
                && !Arrays.equals(postMixAugmentation.outputShape(shape[0], shape[1], shape[2]), shape)) {
            throw new IllegalArgumentException("the post-mix augmentation must keep the image shape "
                    + Arrays.toString(shape));
        }
    }

    /** A builder with batch size 32, seed 0, shuffling, drop-last, no augmentation, prefetch 3, 1 worker. */
    public static Builder builder(Dataset dataset) {
        return new Builder(dataset);
    }

    /**
     * Plain evaluation order: every example once, in index order, no augmentation, no mixing, last batch kept
     * even when smaller.
     */
    public static BatchLoader sequential(Dataset dataset, int batchSize) {
        return builder(dataset).batchSize(batchSize).shuffle(false).dropLast(false).build();
    }

    /** Builder of {@link BatchLoader}. */
    public static final class Builder {
        private final Dataset dataset;
        private int batchSize = 32;
        private long seed;
        private boolean shuffle = true;
        private boolean dropLast = true;
        private Augmentation augmentation;
        private BatchMixer mixer;
        private Augmentation postMixAugmentation;
        private double labelSmoothing;
        private int prefetch = 3;
        private int workers = 1;
        private boolean augmentOriginals;

        private Builder(Dataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
        }

        /** Examples per output batch (after mixing). */
        public Builder batchSize(int v) {
            if (v <= 0) {
                throw new IllegalArgumentException("batch size must be positive, got " + v);
            }
            batchSize = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder shuffle(boolean v) {
            shuffle = v;
            return this;
        }

        public Builder dropLast(boolean v) {
            dropLast = v;
            return this;
        }

        /** Per-example augmentation before mixing (may change the image size, e.g. RandomResizedCrop). */
        public Builder augmentation(Augmentation v) {
            augmentation = v;
            return this;
        }

        /**
         * When true, the per-example augmentation receives {@link Dataset#original(int)} (for an image
         * folder: the full decoded image, of varying size) instead of the fixed-size {@link Dataset#get}
         * result; the augmentation must then produce a fixed size (e.g. RandomResizedCrop), as declared by its
         * {@link Augmentation#outputShape}. This is the reference training crop. Default false.
         */
        public Builder augmentOriginals(boolean v) {
            augmentOriginals = v;
            return this;
        }

        /** Batch-level mixing (MixUp/CutMix); null for none. */
        public Builder mixer(BatchMixer v) {
            mixer = v;
            return this;
        }

        /** Per-example augmentation after mixing (RandAugment in the reference); must keep the shape. */
        public Builder postMixAugmentation(Augmentation v) {
            postMixAugmentation = v;
            return this;
        }

        /** Label smoothing eps in [0, 1] applied to the targets last; 0 for none. */
        public Builder labelSmoothing(double v) {
            if (!(v >= 0 && v <= 1)) {
                throw new IllegalArgumentException("label smoothing must be in [0,1], got " + v);
            }
            labelSmoothing = v;
            return this;
        }

        /** Batches prepared ahead (queue capacity), at least 1. */
        public Builder prefetch(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("prefetch must be >= 1, got " + v);
            }
            prefetch = v;
            return this;
        }

        /** Threads decoding the examples of one batch, at least 1. */
        public Builder workers(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("workers must be >= 1, got " + v);
            }
            workers = v;
            return this;
        }

        public BatchLoader build() {
            return new BatchLoader(this);
        }
    }

    public Dataset dataset() {
        return dataset;
    }

    /** Examples per full output batch. */
    public int batchSize() {
        return batchSize;
    }

    public long seed() {
        return seed;
    }

    /** Shape {@code [C, H, W]} of the examples in the produced batches. */
    public int[] exampleShape() {
        return shape.clone();
    }

    /** Dataset examples consumed per batch. */
    public int drawsPerBatch() {
        return mixer == null ? batchSize : mixer.inputSize(batchSize);
    }

    /** Number of batches in one epoch. */
    public int batchesPerEpoch() {
        int n = dataset.size();
        int d = drawsPerBatch();
        int full = n / d;
        int rest = n % d;
        if (dropLast || rest == 0) {
            return full;
        }
        return (mixer == null || mixer.outputSize(rest) > 0) ? full + 1 : full;
    }

    /** The visiting order of epoch {@code epoch}: a permutation of the example indices. */
    public int[] order(long epoch) {
        return orderShared(epoch).clone();
    }

    private int[] orderShared(long epoch) {
        CachedOrder c = cachedOrder;
        if (c != null && c.epoch() == epoch) {
            return c.order();
        }
        int n = dataset.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom rng = Seeds.rng(seed, STREAM_ORDER, epoch);
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        cachedOrder = new CachedOrder(epoch, order);
        return order;
    }

    /** Prepares batch {@code batchIndex} of {@code epoch} on the calling thread, as heap arrays. */
    public HostBatch loadHost(long epoch, int batchIndex) {
        return loadHost(epoch, batchIndex, null);
    }

    /** Prepares batch {@code batchIndex} of {@code epoch} on the calling thread. */
    public Batch load(long epoch, int batchIndex) {
        return loadHost(epoch, batchIndex).toBatch();
    }

    /**
     * Examples {@code [from, to)} of batch {@code batchIndex} of {@code epoch}, exactly as they appear in the whole
     * batch ({@link #load(long, int)}): a data-parallel worker prepares only its shard. Without a mixer only the
     * shard's examples are read; with one the whole input batch is read and mixed (mixing pairs examples across the
     * batch) and the shard is cut from the result. Post-mix augmentation draws by position in the whole batch.
     */
    public HostBatch loadHost(long epoch, int batchIndex, int from, int to) {
        return loadHost(epoch, batchIndex, from, to, null);
    }

    /** Number of output examples of batch {@code batchIndex} (the batch size, except a smaller last batch). */
    public int batchLength(int batchIndex) {
        Objects.checkIndex(batchIndex, batchesPerEpoch());
        int d = drawsPerBatch();
        int count = Math.min(d, dataset.size() - batchIndex * d);
        return mixer == null ? count : mixer.outputSize(count);
    }

    private HostBatch loadHost(long epoch, int batchIndex, ForkJoinPool pool) {
        return loadHost(epoch, batchIndex, 0, batchLength(batchIndex), pool);
    }

    private HostBatch loadHost(long epoch, int batchIndex, int from, int to, ForkJoinPool pool) {
        int outN = batchLength(batchIndex);
        if (from < 0 || to > outN || from > to) {
            throw new IndexOutOfBoundsException("examples [" + from + ", " + to + ") of batch " + batchIndex
                    + " of " + outN + " examples");
        }
        int[] order = orderShared(epoch);
        int d = drawsPerBatch();
        int start = batchIndex * d;
        int count = Math.min(d, order.length - start);
        if (mixer != null) {
            count = mixer.inputSize(mixer.outputSize(count));
        }
        int c = shape[0];
        int h = shape[1];
        int w = shape[2];
        int len = c * h * w;
        // without a mixer, output example j is input example j: read only the shard
        int first = mixer == null ? from : 0;
        int inN = mixer == null ? to - from : count;
        HostBatch in = HostBatch.allocate(inN, c, h, w, dataset.numClasses());
        if (pool == null || inN < 2) {
            for (int i = 0; i < inN; i++) {
                fillExample(in, i, order[start + first + i], epoch, len);
            }
        } else {
            runParallel(pool, inN, i -> fillExample(in, i, order[start + first + i], epoch, len));
        }
        HostBatch out = mixer == null ? in : slice(mixer.mix(in, Seeds.rng(seed, STREAM_MIX, epoch, batchIndex)), from, to);
        if (postMixAugmentation != null) {
            if (pool == null || out.size() < 2) {
                for (int j = 0; j < out.size(); j++) {
                    postAugment(out, j, from + j, epoch, batchIndex, len);
                }
            } else {
                runParallel(pool, out.size(), j -> postAugment(out, j, from + j, epoch, batchIndex, len));
            }
        }
        if (labelSmoothing > 0) {
            LabelSmoothing.smoothInPlace(out.targets(), out.numClasses(), labelSmoothing);
        }
        return out;
    }

    private static HostBatch slice(HostBatch b, int from, int to) {
        if (from == 0 && to == b.size()) {
            return b;
        }
        int len = b.exampleLength();
        int k = b.numClasses();
        return new HostBatch(Arrays.copyOfRange(b.images(), from * len, to * len),
                Arrays.copyOfRange(b.targets(), from * k, to * k), Arrays.copyOfRange(b.labels(), from, to),
                b.channels(), b.height(), b.width(), k);
    }

    private void fillExample(HostBatch in, int slot, int index, long epoch, int len) {
        FloatImage img;
        if (augmentOriginals) {
            img = dataset.original(index);
        } else {
            float[] buf = new float[dataset.exampleLength()];
            dataset.get(index, buf);
            img = new FloatImage(buf, dataset.channels(), dataset.height(), dataset.width());
        }
        img = augmentation.apply(img, Seeds.rng(seed, STREAM_EXAMPLE, epoch, index));
        if (img.channels() != shape[0] || img.height() != shape[1] || img.width() != shape[2]) {
            throw new IllegalStateException("augmentation produced " + Arrays.toString(img.shape()) + " for example "
                    + index + ", expected " + Arrays.toString(shape));
        }
        System.arraycopy(img.data(), 0, in.images(), slot * len, len);
        in.setOneHot(slot, dataset.label(index));
    }

    private void postAugment(HostBatch out, int slot, int position, long epoch, int batchIndex, int len) {
        float[] buf = Arrays.copyOfRange(out.images(), slot * len, (slot + 1) * len);
        FloatImage img = postMixAugmentation.apply(new FloatImage(buf, shape[0], shape[1], shape[2]),
                Seeds.rng(seed, STREAM_POST, epoch, batchIndex, position));
        if (img.data().length != len) {
            throw new IllegalStateException("post-mix augmentation changed the image shape to "
                    + Arrays.toString(img.shape()));
        }
        System.arraycopy(img.data(), 0, out.images(), slot * len, len);
    }

    private static void runParallel(ForkJoinPool pool, int n, java.util.function.IntConsumer task) {
        try {
            pool.submit(() -> IntStream.range(0, n).parallel().forEach(task)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading a batch", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** {@link #iterator(long, int) iterator(epoch, 0)}. */
    public BatchIterator iterator(long epoch) {
        return iterator(epoch, 0);
    }

    /**
     * Batches {@code startBatch, startBatch+1, ...} of {@code epoch}, prepared on a background thread. A
     * resumed iterator yields exactly the batches a full pass would have yielded from that index on.
     */
    public BatchIterator iterator(long epoch, int startBatch) {
        int nb = batchesPerEpoch();
        if (startBatch < 0 || startBatch > nb) {
            throw new IndexOutOfBoundsException("start batch " + startBatch + " not in [0, " + nb + "]");
        }
        return new BatchIterator(epoch, startBatch, nb);
    }

    private static final Object END = new Object();

    private record Item(int index, Batch batch) {
    }

    private record Failure(int index, Throwable error) {
    }

    /**
     * Iterator over the batches of one epoch, fed by a background thread. Not thread-safe: one consumer.
     */
    public final class BatchIterator implements Iterator<Batch>, AutoCloseable {
        private final long epoch;
        private final int end;
        private final BlockingQueue<Object> queue;
        private final Thread worker;
        private volatile boolean closed;
        private Object pending;
        private boolean finished;
        private int nextIndex;

        private BatchIterator(long epoch, int start, int end) {
            this.epoch = epoch;
            this.end = end;
            this.nextIndex = start;
            this.queue = new ArrayBlockingQueue<>(prefetch + 1);
            this.worker = new Thread(() -> produce(start), "nfnets-batch-loader-" + THREAD_IDS.incrementAndGet());
            worker.setDaemon(true);
            if (start >= end) {
                finished = true;
            } else {
                worker.start();
            }
        }

        private void produce(int start) {
            ForkJoinPool pool = workers > 1 ? new ForkJoinPool(workers) : null;
            int b = start;
            try {
                for (; b < end && !closed; b++) {
                    HostBatch host = loadHost(epoch, b, pool);
                    Batch batch = host.toBatch();
                    if (!offer(new Item(b, batch))) {
                        return;
                    }
                }
                offer(END);
            } catch (Throwable t) {
                if (!closed) {
                    offer(new Failure(b, t));
                }
            } finally {
                if (pool != null) {
                    pool.shutdownNow();
                }
            }
        }

        /** Puts into the queue unless closed; false when closed meanwhile. */
        private boolean offer(Object o) {
            try {
                while (!closed) {
                    if (queue.offer(o, 50, TimeUnit.MILLISECONDS)) {
                        return true;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }

        @Override
        public boolean hasNext() {
            if (finished || closed) {
                return false;
            }
            if (pending == null) {
                try {
                    pending = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new LoadingException("interrupted while waiting for batch " + nextIndex, e);
                }
            }
            if (pending == END) {
                finished = true;
                pending = null;
                return false;
            }
            if (pending instanceof Failure f) {
                finished = true;
                pending = null;
                close();
                throw new LoadingException("preparing batch " + f.index() + " of epoch " + epoch + " failed: "
                        + f.error(), f.error());
            }
            return true;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("no more batches in epoch " + epoch);
            }
            Item item = (Item) pending;
            pending = null;
            nextIndex = item.index() + 1;
            return item.batch();
        }

        /** Index (within the epoch) of the batch the next call to {@link #next()} returns. */
        public int nextBatchIndex() {
            return nextIndex;
        }

        /** The epoch iterated. */
        public long epoch() {
            return epoch;
        }

        /** Whether the background thread is still running. */
        public boolean isWorkerAlive() {
            return worker.isAlive();
        }

        /**
         * Stops the background thread, discarding prepared batches; waits up to 5 s for it to end (a
         * dataset read in progress is not interruptible). Idempotent.
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            worker.interrupt();
            queue.clear();
            if (Thread.currentThread() != worker) {
                try {
                    worker.join(5000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (worker.isAlive()) {
                    LOG.warn("batch loader thread {} still busy 5 s after close; it will end after its current batch",
                            worker.getName());
                }
            }
        }
    }

    @Override
    public String toString() {
        return "BatchLoader[" + dataset.description() + ", batch " + batchSize + ", " + batchesPerEpoch()
                + " batches/epoch, seed " + seed + (shuffle ? ", shuffled" : "") + (dropLast ? ", drop last" : "")
                + ", augmentation " + augmentation + (augmentOriginals ? " (on originals)" : "") + (mixer == null ? "" : ", mixer " + mixer)
                + (postMixAugmentation == null ? "" : ", post-mix " + postMixAugmentation)
                + (labelSmoothing > 0 ? ", label smoothing " + labelSmoothing : "") + "]";
    }
}
