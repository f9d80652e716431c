package dev.nfnets.train.cli;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.weights.Weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds an {@link ImageClassifier} the way the CLI's {@code predict} does, for every command that classifies
 * ({@code predict}, {@code serve}, ...): the weights are a file or a run folder written by {@code nfnets train}
 * (its {@code weights.safetensors}); the model config comes from {@code --model} or from the file; class names
 * come from {@code --classes-file}, else the {@code classes.txt} beside the weights, else ImageNet names for
 * 1000-class models ({@code "class i"} otherwise).
 *
 * <pre>{@code
 * ImageClassifier c = Classifiers.load(Path.of("runs/fashion"), null, null, null);
 * }</pre>
 */
public final class Classifiers {
    /** The weights file inside a run folder. */
    public static final String RUN_WEIGHTS = "weights.safetensors";

    private Classifiers() {
    }

    /**
     * @param weights     a weight file or a run folder
     * @param model       f0..f7, mnist or a config JSON; null to use the config stored in the weights
     * @param size        input size; null for the model's test size
     * @param classesFile class names, one per line; null for the defaults above
     */
    public static ImageClassifier load(Path weights, String model, Integer size, Path classesFile) throws IOException {
        Path file = Files.isDirectory(weights) ? weights.resolve(RUN_WEIGHTS) : WeightsCache.resolve(weights);
        Weights.WeightFile wf = Weights.read(file);
        NFNetConfig c = model != null ? Models.resolve(model) : wf.config().orElseThrow(() -> new IllegalArgumentException(
                file + " carries no model config; pass --model (e.g. --model f0)"));
        if (size != null) {
            c = NFNetConfig.builder(c).testSize(size).build();
        }
        NFNet net = new NFNet(c);
        Weights.load(net, wf, name -> false);
        Path names = classesFile;
        Path dir = file.toAbsolutePath().getParent();
        if (names == null && dir != null && Files.isRegularFile(dir.resolve(TrainCommand.CLASSES_FILE))) {
            names = dir.resolve(TrainCommand.CLASSES_FILE);   // written by `nfnets train`
        }
        return names != null
                ? NFNets.classifier(net, DataSets.readClassNames(names))
                : NFNets.classifier(net);
    }
}
