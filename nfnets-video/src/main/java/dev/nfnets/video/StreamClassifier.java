package dev.nfnets.video;

import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Classifies a video stream: the calling thread captures frames from a {@link FrameSource}, a second thread runs the
 * model, and {@link StreamSink}s receive annotated frames and predictions.
 *
 * <p><b>Latest frame wins</b> ({@link Options#dropStaleFrames()}, for cameras and live streams): the capture thread
 * never waits for the model; when the model is still busy with a frame, a newer one replaces the one waiting, and the
 * replaced frame is counted as dropped. Every captured frame is shown, annotated with the latest predictions, so the
 * display keeps the camera's pace however slow the model is. Without dropping (for video files) every frame is
 * classified and shown with its own predictions; capture then runs at most one frame ahead of the model.
 *
 * <p>The stream ends at the end of the source, after {@link Options#maxFrames()} captured frames, on {@link #stop()}
 * (from any thread: a window's q/Esc, Ctrl-C) or when the source fails (an unplugged camera: logged, not thrown). In
 * every case the source is closed (the device released) and every sink closed before {@link #run()} returns.
 *
 * <pre>{@code
 * ImageClassifier classifier = NFNets.classifier(NFNets.load(NFNetConfig.f0(), Path.of("F0_haiku.npz")));
 * try (FrameSource camera = FFmpegSource.open("0")) {
 *     StreamClassifier.Stats s = new StreamClassifier(camera, StreamClassifier.topK(classifier, 5),
 *             List.of(new JsonlSink(Path.of("predictions.jsonl"))), StreamClassifier.Options.live(300)).run();
 * }
 * }</pre>
 */
public final class StreamClassifier {
    private static final Logger log = LoggerFactory.getLogger(StreamClassifier.class);
    private static final double RATE_SMOOTHING = 0.1;
    private static final long PROGRESS_EVERY_NS = 5_000_000_000L;

    /** What the loop runs on a frame; {@link #topK} adapts an {@link ImageClassifier}. */
    @FunctionalInterface
    public interface FrameClassifier {
        List<Prediction> classify(BufferedImage rgb) throws Exception;
    }

    /**
     * @param maxFrames       stop after this many captured frames; 0 for no limit
     * @param dropStaleFrames latest frame wins (live sources) instead of classifying every frame (files)
     */
    public record Options(long maxFrames, boolean dropStaleFrames) {
        public Options {
            if (maxFrames < 0) {
                throw new IllegalArgumentException("--max-frames must be >= 0 (0: no limit), got " + maxFrames);
            }
        }

        public static Options live(long maxFrames) {
            return new Options(maxFrames, true);
        }

        public static Options everyFrame(long maxFrames) {
            return new Options(maxFrames, false);
        }
    }

    /**
     * What happened.
     *
     * @param captured   frames read from the source
     * @param classified frames the model classified
     * @param dropped    frames replaced by newer ones before the model reached them
     * @param seconds    wall time of the stream
     * @param endReason  "end of stream", "max frames", "stopped" or "source failed: ..."
     */
    public record Stats(long captured, long classified, long dropped, double seconds, String endReason) {
        public double capturedPerSecond() {
            return seconds > 0 ? captured / seconds : 0;
        }

        public double classifiedPerSecond() {
            return seconds > 0 ? classified / seconds : 0;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d frames captured (%.1f/s), %d classified (%.1f/s), %d dropped, %.1f s; %s",
                    captured, capturedPerSecond(), classified, classifiedPerSecond(), dropped, seconds, endReason);
        }
    }

    private record Captured(BufferedImage image, long index, long nanos) {
    }

    /** Adapts an ImageClassifier (its preprocessing, forward pass and softmax) to the loop. */
    public static FrameClassifier topK(ImageClassifier classifier, int k) {
        Objects.requireNonNull(classifier, "classifier");
        int classes = classifier.classNames().size();
        if (k < 1 || k > classes) {
            throw new IllegalArgumentException("--top must be between 1 and " + classes + ", got " + k);
        }
        return image -> classifier.classify(image, k);
    }

    private final FrameSource source;
    private final FrameClassifier classifier;
    private final List<StreamSink> sinks;
    private final List<StreamSink> frameSinks;
    private final Options options;

    private final Object lock = new Object();
    private Captured pending;
    private boolean captureDone;
    private long dropped;
    private volatile boolean stopped;
    private volatile StreamPrediction latest;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private long classified;
    private long startNanos;

    public StreamClassifier(FrameSource source, FrameClassifier classifier, List<StreamSink> sinks, Options options) {
        this.source = Objects.requireNonNull(source, "source");
        this.classifier = Objects.requireNonNull(classifier, "classifier");
        this.sinks = List.copyOf(sinks);
        this.frameSinks = this.sinks.stream().filter(StreamSink::wantsFrames).toList();
        this.options = Objects.requireNonNull(options, "options");
    }

    /** Ends the stream soon (the frame being classified is finished); any thread, any number of times. */
    public void stop() {
        stopped = true;
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    /** Waits until {@link #run()} has released the source and closed the sinks (e.g. from a shutdown hook). */
    public boolean awaitFinished(long millis) throws InterruptedException {
        return finished.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * Runs the stream on the calling thread (capture) and one inference thread until it ends; see the class comment.
     *
     * @return counts and the reason it ended
     * @throws IOException when a sink fails or the model throws (the source and sinks are still closed)
     */
    public Stats run() throws IOException {
        startNanos = System.nanoTime();
        Thread inference = new Thread(this::inferenceLoop, "nfnets-stream-inference");
        inference.setDaemon(true);
        String reason = "end of stream";
        long captured = 0;
        try {
            for (StreamSink s : sinks) {
                s.start(source.frameRate());
            }
            inference.start();
            long nextProgress = startNanos + PROGRESS_EVERY_NS;
            while (true) {
                if (stopped) {
                    reason = failure.get() != null ? "failed" : "stopped";
                    break;
                }
                if (options.maxFrames() > 0 && captured >= options.maxFrames()) {
                    reason = "max frames";
                    break;
                }
                BufferedImage image;
                try {
                    image = source.grab();
                } catch (IOException e) {
                    reason = "source failed: " + e.getMessage();
                    log.warn("{} failed after {} frames, ending the stream: {}", source.describe(), captured, e.getMessage());
                    break;
                }
                if (image == null) {
                    break;
                }
                Captured c = new Captured(image, captured++, System.nanoTime());
                offer(c);
                if (options.dropStaleFrames()) {
                    show(c.image(), c.index(), latest);
                }
                long now = System.nanoTime();
                if (now >= nextProgress) {
                    nextProgress = now + PROGRESS_EVERY_NS;
                    log.info("{}", stats(captured, "running"));
                }
            }
        } catch (IOException | RuntimeException e) {
            failure.compareAndSet(null, e);
        } finally {
            synchronized (lock) {
                captureDone = true;
                lock.notifyAll();
            }
            try {
                inference.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = true;
            }
            source.close();
            for (StreamSink s : sinks) {
                try {
                    s.close();
                } catch (IOException | RuntimeException e) {
                    failure.compareAndSet(null, e);
                }
            }
            finished.countDown();
        }
        Throwable t = failure.get();
        if (t != null) {
            if (t instanceof IOException io) {
                throw io;
            }
            if (t instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException("stream failed: " + t.getMessage(), t);
        }
        Stats s = stats(captured, reason);
        log.info("stream from {} ended: {}", source.describe(), s);
        return s;
    }

    private Stats stats(long captured, String reason) {
        long d;
        long c;
        synchronized (lock) {
            d = dropped;
            c = classified;
        }
        return new Stats(captured, c, d, (System.nanoTime() - startNanos) / 1e9, reason);
    }

    private void offer(Captured c) {
        synchronized (lock) {
            if (options.dropStaleFrames()) {
                if (pending != null) {
                    dropped++;
                }
            } else {
                while (pending != null && !stopped) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        stopped = true;
                    }
                }
            }
            pending = c;
            lock.notifyAll();
        }
    }

    private Captured take() throws InterruptedException {
        synchronized (lock) {
            while (pending == null && !captureDone && !stopped) {
                lock.wait();
            }
            if (stopped) {
                return null;
            }
            Captured c = pending;
            pending = null;
            lock.notifyAll();
            return c;
        }
    }

    private void inferenceLoop() {
        double rate = 0;
        long lastDone = 0;
        try {
            while (true) {
                Captured c = take();
                if (c == null) {
                    return;
                }
                long t0 = System.nanoTime();
                List<Prediction> top = classifier.classify(c.image());
                long t1 = System.nanoTime();
                double instant = lastDone == 0 ? 1e9 / Math.max(1, t1 - t0) : 1e9 / Math.max(1, t1 - lastDone);
                rate = lastDone == 0 ? instant : RATE_SMOOTHING * instant + (1 - RATE_SMOOTHING) * rate;
                lastDone = t1;
                StreamPrediction p = new StreamPrediction(c.index(), (c.nanos() - startNanos) / 1e9, (t1 - t0) / 1e6,
                        rate, List.copyOf(top));
                latest = p;
                synchronized (lock) {
                    classified++;
                }
                for (StreamSink s : sinks) {
                    s.prediction(p);
                }
                if (!options.dropStaleFrames()) {
                    show(c.image(), c.index(), p);
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            log.error("stream inference failed: {}", t.toString());
            stop();
        }
    }

    private void show(BufferedImage image, long index, StreamPrediction p) throws IOException {
        if (frameSinks.isEmpty()) {
            return;
        }
        long d;
        synchronized (lock) {
            d = dropped;
        }
        BufferedImage annotated = Annotator.annotate(image, p, d);
        for (StreamSink s : frameSinks) {
            s.frame(annotated, index);
        }
    }

}
