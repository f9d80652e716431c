package dev.nfnets.serve;

import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Preprocessing;
import dev.nfnets.layers.memory.StepScope;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Dynamic batching: requests hand in preprocessed pixels and get a future of their logits; one model thread
 * takes the oldest waiting image, lets others join it for at most {@code maxWaitMs} (counted from when the
 * oldest arrived) or until {@code maxBatch} are there, and runs them through the model in one forward pass.
 * Under light load a request waits at most {@code maxWaitMs}; under heavy load batches fill up at once and
 * the model does more images per second. With {@code maxBatch = 1} every image runs alone.
 *
 * <p>Batching does not change an image's numbers beyond float rounding: every layer treats the images of a
 * batch independently (no batch norm), so only the summation order inside native kernels can differ;
 * {@code ServeApiTest} checks the logits of a batch of 8 against those of each image alone.
 *
 * <p>The queue is bounded: {@link #submit} refuses with 503 when {@code maxQueue} images already wait.
 */
final class DynamicBatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DynamicBatcher.class);

    /** One image's answer: its logits, the size of the batch it ran in, and its time queued and in the model. */
    record Result(float[] logits, int batchSize, long queuedNanos, long inferenceNanos) {
    }

    private record Job(float[] pixels, long enqueuedNanos, CompletableFuture<Result> result) {
    }

    private final ImageClassifier classifier;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final ServeMetrics metrics;
    private final BlockingQueue<Job> queue;
    private final Thread thread;
    private volatile boolean running = true;

    DynamicBatcher(ImageClassifier classifier, int maxBatch, long maxWaitMs, int maxQueue, ServeMetrics metrics) {
        this.classifier = classifier;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        this.metrics = metrics;
        this.queue = new ArrayBlockingQueue<>(maxQueue);
        metrics.queueDepth(queue::size);
        this.thread = new Thread(this::loop, "nfnets-serve-model");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues one preprocessed image ({@code C*H*W} floats in the model's layout). */
    CompletableFuture<Result> submit(float[] pixels) {
        Job job = new Job(pixels, System.nanoTime(), new CompletableFuture<>());
        if (!running) {
            throw new ApiException(503, "shutting_down", "the server is shutting down");
        }
        if (!queue.offer(job)) {
            throw new ApiException(503, "overloaded", "the server has " + queue.size()
                    + " images waiting for the model already; retry later");
        }
        return job.result();
    }

    private void loop() {
        List<Job> batch = new ArrayList<>(maxBatch);
        try {
            while (running) {
                Job first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long deadline = first.enqueuedNanos() + maxWaitNanos;
                while (batch.size() < maxBatch) {
                    long left = deadline - System.nanoTime();
                    Job next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                run(batch);
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (Job j : batch) {
                j.result().completeExceptionally(new ApiException(503, "shutting_down", "the server is shutting down"));
            }
            Job j;
            while ((j = queue.poll()) != null) {
                j.result().completeExceptionally(new ApiException(503, "shutting_down", "the server is shutting down"));
            }
            StepScope.releaseAll();
        }
    }

    private void run(List<Job> batch) {
        Preprocessing pre = classifier.preprocessing();
        int n = pre.channels() * pre.size() * pre.size();
        float[] data = new float[batch.size() * n];
        for (int i = 0; i < batch.size(); i++) {
            System.arraycopy(batch.get(i).pixels(), 0, data, i * n, n);
        }
        long start = System.nanoTime();
        // Closed at once rather than left to the garbage collector: native memory stays flat under load.
        try (INDArray x = Nd4j.create(data, new long[] {batch.size(), pre.channels(), pre.size(), pre.size()}, DataType.FLOAT)) {
            float[][] logits = classifier.logits(x);
            long took = System.nanoTime() - start;
            metrics.batch(batch.size(), took / 1e9);
            for (int i = 0; i < batch.size(); i++) {
                Job j = batch.get(i);
                j.result().complete(new Result(logits[i], batch.size(), start - j.enqueuedNanos(), took));
            }
        } catch (RuntimeException | Error e) {
            log.error("forward pass of a batch of {} failed", batch.size(), e);
            for (Job j : batch) {
                j.result().completeExceptionally(e);
            }
        }
    }

    /** Stops the model thread; images still queued are answered with 503. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
