package dev.nfnets.spark;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.train.cli.Models;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.imageio.ImageIO;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batch inference on Spark: classifies a {@code Dataset<Row>} of images (a {@code path} string column and a
 * {@code content} binary column, as {@code spark.read().format("binaryFile")} gives) into a DataFrame of
 * {@code path}, {@code labels} (top-k class names, best first) and {@code probabilities}. Each image gets the
 * reference evaluation preprocessing of {@link ImageClassifier}; each executor JVM loads the model once and its
 * tasks share it.
 *
 * <pre>{@code
 * Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load("/data/images");
 * Dataset<Row> top5 = SparkClassifier.classify(files, new SparkClassifier.Model("run/weights.safetensors", null, null), 5);
 * }</pre>
 */
public final class SparkClassifier {
    private static final Logger log = LoggerFactory.getLogger(SparkClassifier.class);
    private static final Map<Model, ImageClassifier> LOADED = new ConcurrentHashMap<>();

    /** The output schema: path, top-k labels, their probabilities. */
    public static final StructType SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("labels", DataTypes.createArrayType(DataTypes.StringType, false), false)
            .add("probabilities", DataTypes.createArrayType(DataTypes.DoubleType, false), false);

    private SparkClassifier() {
    }

    /**
     * What the executors load: a weight file at the same path on every worker, the model ({@code null}: the config
     * stored in the file; else as {@code nfnets --model}), and the class names ({@code null}: as {@code predict}).
     */
    public record Model(String weights, String model, List<String> classNames) implements Serializable {
        private static final long serialVersionUID = 1L;

        /** Loads the classifier (done once per JVM by {@link #classifier}). */
        ImageClassifier load() throws IOException {
            Path file = Path.of(weights);
            Weights.WeightFile wf = Weights.read(file);
            NFNetConfig c = model != null ? Models.resolve(model) : wf.config().orElseThrow(() -> new IllegalArgumentException(
                    file + " carries no model config; give the model (e.g. f0)"));
            NFNet net = new NFNet(c);
            Weights.load(net, wf, name -> false);
            return classNames == null ? NFNets.classifier(net) : NFNets.classifier(net, classNames);
        }
    }

    /** The classifier of {@code model}, loaded on first use in this JVM. */
    public static ImageClassifier classifier(Model model) {
        return LOADED.computeIfAbsent(model, m -> {
            try {
                ImageClassifier c = m.load();
                log.info("loaded {} for batch inference", m.weights());
                return c;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load " + m.weights() + ": " + e.getMessage(), e);
            }
        });
    }

    /**
     * Classifies every row of {@code images} (columns {@code path}, {@code content}).
     *
     * @throws IllegalArgumentException when a column is missing or top is not positive
     */
    public static Dataset<Row> classify(Dataset<Row> images, Model model, int top) {
        List<String> columns = List.of(images.columns());
        for (String c : new String[] {"path", "content"}) {
            if (!columns.contains(c)) {
                throw new IllegalArgumentException("the images need a '" + c + "' column (as format(\"binaryFile\") gives); got " + columns);
            }
        }
        if (top < 1) {
            throw new IllegalArgumentException("top must be at least 1, got " + top);
        }
        return images.select("path", "content").mapPartitions(new ClassifyPartition(model, top), Encoders.row(SCHEMA));
    }

    /** Classifies one partition's images with the JVM's shared model. */
    private record ClassifyPartition(Model model, int top) implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws IOException {
            ImageClassifier classifier = classifier(model);
            List<Row> out = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                String path = r.getString(0);
                BufferedImage img = ImageIO.read(new ByteArrayInputStream((byte[]) r.get(1)));
                if (img == null) {
                    throw new IOException(path + ": not a decodable image (no ImageIO reader recognises its content)");
                }
                List<Prediction> ps;
                // one model per JVM: its tasks take turns (each forward pass uses all of ND4J's threads)
                synchronized (classifier) {
                    ps = classifier.classify(img, Math.min(top, classifier.classNames().size()));
                }
                String[] labels = new String[ps.size()];
                Double[] probs = new Double[ps.size()];
                for (int i = 0; i < labels.length; i++) {
                    labels[i] = ps.get(i).label();
                    probs[i] = ps.get(i).probability();
                }
                out.add(RowFactory.create(path, labels, probs));
            }
            return out.iterator();
        }
    }
}
