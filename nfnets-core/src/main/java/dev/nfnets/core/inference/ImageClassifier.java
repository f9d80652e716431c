package dev.nfnets.core.inference;

import dev.nfnets.core.NFNet;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.memory.StepScope;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Classifies images with an {@link NFNet}: {@link Preprocessing}, a forward pass in EVAL mode, a softmax over
 * all classes, and the {@code topK} most probable classes, best first (ties by class index).
 *
 * <p><b>Threads.</b> {@code classify} may be called from any number of threads. Forward passes on the same
 * model are serialised by synchronising on the {@link NFNet} instance (layers keep per-call state, and
 * ND4J workspaces belong to one thread), while decoding, resizing and the softmax run in parallel. Each
 * calling thread gets its own inference workspace, released when the thread ends or by
 * {@link StepScope#releaseAll()} on that thread. Code that trains the same model concurrently must also
 * synchronise on it.
 *
 * <pre>{@code
 * NFNet model = NFNets.load(NFNetConfig.f0(), Path.of("F0_haiku.npz"));
 * ImageClassifier classifier = NFNets.classifier(model);
 * for (Prediction p : classifier.classify(Path.of("cat.jpg"), 5)) {
 *     log.info("{}", p);                 // e.g. "281 tabby (62.10%)"
 * }
 * }</pre>
 */
public final class ImageClassifier {
    private static final Logger log = LoggerFactory.getLogger(ImageClassifier.class);
    private static final int DEFAULT_BATCH = 8;

    private final NFNet model;
    private final List<String> classNames;
    private final Preprocessing preprocessing;
    private final int batchSize;

    /**
     * @param model         the network, used in EVAL mode
     * @param classNames    one name per logit
     * @param preprocessing must produce as many channels as the model takes
     */
    public ImageClassifier(NFNet model, List<String> classNames, Preprocessing preprocessing) {
        this(model, classNames, preprocessing, DEFAULT_BATCH);
    }

    private ImageClassifier(NFNet model, List<String> classNames, Preprocessing preprocessing, int batchSize) {
        this.model = Objects.requireNonNull(model, "model");
        this.preprocessing = Objects.requireNonNull(preprocessing, "preprocessing");
        int k = model.config().numClasses();
        if (classNames.size() != k) {
            throw new IllegalArgumentException("model '" + model.config().name() + "' has " + k + " classes but "
                    + classNames.size() + " class names were given");
        }
        if (preprocessing.channels() != model.config().inChannels()) {
            throw new IllegalArgumentException("model '" + model.config().name() + "' takes "
                    + model.config().inChannels() + " input channels but the preprocessing produces "
                    + preprocessing.channels());
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.classNames = List.copyOf(classNames);
        this.batchSize = batchSize;
    }

    /** A copy using another preprocessing (e.g. {@code Preprocessing.imagenet(320)} for a larger test size). */
    public ImageClassifier withPreprocessing(Preprocessing other) {
        return new ImageClassifier(model, classNames, other, batchSize);
    }

    /** A copy whose {@link #classifyAll} runs the model on up to {@code n} images at a time (default 8). */
    public ImageClassifier withBatchSize(int n) {
        return new ImageClassifier(model, classNames, preprocessing, n);
    }

    public NFNet model() {
        return model;
    }

    public List<String> classNames() {
        return classNames;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    public int batchSize() {
        return batchSize;
    }

    /** The {@code topK} most probable classes of {@code image}, best first. */
    public List<Prediction> classify(BufferedImage image, int topK) {
        checkTopK(topK);
        return rank(logits(image), topK, "the image");
    }

    /** Decodes {@code file} and classifies it; the IOException names the file when it cannot be decoded. */
    public List<Prediction> classify(Path file, int topK) throws IOException {
        checkTopK(topK);
        return rank(logits(Images.read(file)), topK, file);
    }

    /**
     * Classifies several files, running the model on {@link #batchSize()} images at a time; results are in
     * the order of {@code files}. The first file that cannot be decoded fails the call with an IOException
     * naming it.
     */
    public List<List<Prediction>> classifyAll(List<Path> files, int topK) throws IOException {
        checkTopK(topK);
        List<List<Prediction>> out = new ArrayList<>(files.size());
        int n = preprocessing.channels() * preprocessing.size() * preprocessing.size();
        for (int start = 0; start < files.size(); start += batchSize) {
            int count = Math.min(batchSize, files.size() - start);
            float[] batch = new float[count * n];
            for (int i = 0; i < count; i++) {
                System.arraycopy(preprocessing.pixels(Images.read(files.get(start + i))), 0, batch, i * n, n);
            }
            long t0 = System.nanoTime();
            float[][] logits = logits(Nd4j.create(batch,
                    new long[] {count, preprocessing.channels(), preprocessing.size(), preprocessing.size()},
                    DataType.FLOAT));
            log.debug("classified images {}..{} of {} in {} ms", start, start + count - 1, files.size(),
                    (System.nanoTime() - t0) / 1_000_000);
            for (int i = 0; i < count; i++) {
                out.add(rank(logits[i], topK, files.get(start + i)));
            }
        }
        return out;
    }

    /** The raw logits of one image (length {@code numClasses}). */
    public float[] logits(BufferedImage image) {
        return logits(preprocessing.apply(image))[0];
    }

    /**
     * The logits of an already preprocessed {@code (N, C, H, W)} batch, one row per image. The forward pass
     * runs inside an inference {@link StepScope}, so its temporaries are released before this returns.
     */
    public float[][] logits(INDArray batch) {
        synchronized (model) {
            try (StepScope ignored = StepScope.open("inference", model.options())) {
                return model.forward(batch, Mode.EVAL).toFloatMatrix();
            }
        }
    }

    /** Softmax over all logits, computed in double with the maximum subtracted. */
    public static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** @throws IllegalStateException naming {@code source} when a logit is NaN or infinite: no probabilities are made up */
    private List<Prediction> rank(float[] logits, int topK, Object source) {
        for (int i = 0; i < logits.length; i++) {
            if (!Float.isFinite(logits[i])) {
                throw new IllegalStateException(source + ": model '" + model.config().name() + "' produced a non-finite logit ("
                        + logits[i] + " for class " + i + "); its weights or the input hold non-finite values");
            }
        }
        double[] p = softmax(logits);
        return IntStream.range(0, p.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i))
                .limit(topK)
                .map(i -> new Prediction(i, classNames.get(i), p[i]))
                .toList();
    }

    private void checkTopK(int topK) {
        int k = classNames.size();
        if (topK < 1 || topK > k) {
            throw new IllegalArgumentException("topK must be between 1 and " + k + " (the number of classes of model '"
                    + model.config().name() + "'), got " + topK);
        }
    }
}
