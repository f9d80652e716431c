package dev.nfnets.core;

import dev.nfnets.core.inference.ClassNames;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Preprocessing;
import dev.nfnets.core.weights.WeightFormat;
import dev.nfnets.core.weights.Weights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Entry points for using a trained NFNet: load weights, get an image classifier.
 *
 * <pre>{@code
 * NFNet f0 = NFNets.load(NFNetConfig.f0(), Path.of("F0_haiku.npz"));   // DeepMind release (Haiku pickle)
 * NFNet mine = NFNets.load(Path.of("best.safetensors"));                // nfnets-java file: config inside
 * List<Prediction> top5 = NFNets.classifier(f0).classify(Path.of("cat.jpg"), 5);
 * }</pre>
 */
public final class NFNets {
    private NFNets() {
    }

    /**
     * Builds a model for {@code config} and loads {@code weights} into it; the file format follows the file
     * ({@code .npz} DeepMind names, {@code .safetensors} timm or nfnets-java names), see {@link Weights}.
     */
    public static NFNet load(NFNetConfig config, Path weights) throws IOException {
        Objects.requireNonNull(config, "config");
        Weights.WeightFile file = Weights.read(weights);
        NFNet model = new NFNet(config);
        Weights.load(model, file, name -> false);
        return model;
    }

    /** The weights file a training run folder holds. */
    public static final String RUN_WEIGHTS_FILE = "weights.safetensors";
    /** The class-name file ({@code nfnets train} writes it into the run folder), one name per line. */
    public static final String CLASSES_FILE = "classes.txt";

    /**
     * Loads an nfnets-java ({@link WeightFormat#NATIVE}) {@code .safetensors} file, which carries the model
     * config in its metadata, or the {@value #RUN_WEIGHTS_FILE} of a training run folder. The model's
     * {@link NFNet#classNames() class names} come from the file, else from a {@value #CLASSES_FILE} beside it.
     *
     * @throws IllegalArgumentException when the file has no config (a DeepMind or timm checkpoint): use
     *                                  {@link #load(NFNetConfig, Path)} with the matching config instead
     */
    public static NFNet load(Path weightsOrRunFolder) throws IOException {
        Path nativeWeights = java.nio.file.Files.isDirectory(weightsOrRunFolder)
                ? weightsOrRunFolder.resolve(RUN_WEIGHTS_FILE) : weightsOrRunFolder;
        String name = nativeWeights.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".safetensors")) {
            throw new IllegalArgumentException(nativeWeights + " is not an nfnets-java .safetensors file, so it "
                    + "carries no model config; use NFNets.load(config, path), e.g. with NFNetConfig.f0()");
        }
        Weights.WeightFile file = Weights.read(nativeWeights);
        NFNetConfig config = file.config().orElseThrow(() -> new IllegalArgumentException(nativeWeights
                + " has no model config in its metadata (format " + file.format() + ", not an nfnets-java file); "
                + "use NFNets.load(config, path), e.g. with NFNetConfig.f0()"));
        NFNet model = new NFNet(config);
        Weights.load(model, file, n -> false);
        if (model.classNames().isEmpty()) {
            classNamesBeside(nativeWeights, config.numClasses()).ifPresent(model::setClassNames);
        }
        return model;
    }

    /**
     * The names in the {@value #CLASSES_FILE} beside a weights file (one per line, blank lines ignored), when that
     * file exists and names {@code numClasses} classes.
     */
    public static java.util.Optional<List<String>> classNamesBeside(Path weights, int numClasses) throws IOException {
        Path dir = weights.toAbsolutePath().getParent();
        Path file = dir == null ? null : dir.resolve(CLASSES_FILE);
        if (file == null || !java.nio.file.Files.isRegularFile(file)) {
            return java.util.Optional.empty();
        }
        List<String> names = java.nio.file.Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (names.size() != numClasses) {
            org.slf4j.LoggerFactory.getLogger(NFNets.class).warn("{} names {} classes, the model has {}: not used", file,
                    names.size(), numClasses);
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(names);
    }

    /**
     * A classifier with the reference preprocessing for the model's input channels and test size, and class
     * names: the model's own ({@link NFNet#classNames()}, e.g. from a weights file written by training), else
     * ImageNet-1k names when the model has 1000 classes, else {@code "class 0" .. "class K-1"}.
     */
    public static ImageClassifier classifier(NFNet model) {
        return classifier(model, model.classNames().orElseGet(() -> ClassNames.defaultFor(model.config().numClasses())));
    }

    /** A classifier with the given names, one per class (the count is checked). */
    public static ImageClassifier classifier(NFNet model, List<String> classNames) {
        return new ImageClassifier(model, classNames, Preprocessing.forConfig(model.config()));
    }
}
