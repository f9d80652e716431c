package dev.nfnets.train.cli;

import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify images and print the top-k classes per image.",
                "Preprocessing is the reference evaluation pipeline for 3-channel models (bicubic resize to S+32,",
                "centre crop S, ImageNet mean/std) and resize + Fashion-MNIST normalisation for 1-channel models."})
final class PredictCommand implements Callable<Integer> {
    @Option(names = "--model", description = "f0..f7, mnist or a config JSON (not needed for native weight files and run folders)")
    String model;
    @Option(names = "--weights", required = true, description = ".npz (DeepMind), .safetensors (timm or native) or a run folder")
    Path weights;
    @Option(names = "--top", defaultValue = "5", description = "how many classes per image (default: ${DEFAULT-VALUE})")
    int top;
    @Option(names = "--size", description = "input size (default: the model's test size)")
    Integer size;
    @Option(names = "--classes-file", description = "class names, one per line (default: classes.txt beside the weights, else ImageNet names for 1000 classes)")
    Path classesFile;
    @Option(names = "--spark", paramLabel = "MASTER",
            description = "classify on Spark (local[N] or spark://host:7077; needs nfnets-spark): IMAGE is then one folder, "
                    + "searched recursively, and the results go to --output")
    String spark;
    @Option(names = "--output", description = "with --spark: CSV file of path, then label and probability per rank")
    Path output;
    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "JPEG or PNG files (with --spark: one folder)")
    List<Path> images;
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (spark != null) {   // a folder of images classified on a cluster
            Path file = Files.isDirectory(weights) ? weights.resolve(Classifiers.RUN_WEIGHTS) : WeightsCache.resolve(weights);
            return predictOnCluster(file);
        }
        OptionChecks.check(spec, java.util.Set.of("--top"), java.util.Set.of());
        OptionChecks.checkSize(spec, "--size", size);
        for (Path image : images) {   // before the model is built: a directory or a pipe is named, not waited on
            dev.nfnets.core.io.RegularFiles.require(image, "image file");
        }
        ImageClassifier classifier = Classifiers.load(weights, model, size, classesFile);
        List<List<Prediction>> all = classifier.classifyAll(images, top);
        for (int i = 0; i < images.size(); i++) {
            System.out.println(images.get(i) + ":");
            for (Prediction p : all.get(i)) {
                System.out.printf(Locale.ROOT, "  %6.2f%%  %4d  %s%n", 100 * p.probability(), p.classIndex(), p.label());
            }
        }
        return 0;
    }

    private Path classNamesFile(Path file) {
        Path names = classesFile;
        if (names == null && file.toAbsolutePath().getParent() != null
                && Files.isRegularFile(file.toAbsolutePath().getParent().resolve(TrainCommand.CLASSES_FILE))) {
            names = file.toAbsolutePath().getParent().resolve(TrainCommand.CLASSES_FILE);   // written by `nfnets train`
        }
        return names;
    }

    private int predictOnCluster(Path file) throws java.io.IOException {
        if (output == null) {
            throw new IllegalArgumentException("--spark needs --output FILE for the results");
        }
        if (images.size() != 1 || !Files.isDirectory(images.get(0))) {
            throw new IllegalArgumentException("--spark classifies one folder; got " + images);
        }
        if (size != null) {
            throw new IllegalArgumentException("--size is not supported with --spark (the model's test size is used)");
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("weights file not found: " + file);
        }
        Path names = classNamesFile(file);
        List<String> classNames = names == null ? null : DataSets.readClassNames(names);
        long n = ClusterBackend.find("--spark").predict(spark, file, model, classNames, images.get(0), top, output);
        System.out.println("classified " + n + " images into " + output);
        return 0;
    }
}
