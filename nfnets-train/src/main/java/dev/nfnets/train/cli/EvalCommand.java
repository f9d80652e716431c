package dev.nfnets.train.cli;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.train.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate weights (a run folder, a native weights file, or --model with .npz/.safetensors weights) on a test set.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, description = "weights file or run folder (uses its weights.safetensors)")
    Path weights;
    @Option(names = "--model", description = "model name or config JSON (needed unless the weights carry their config)")
    String model;
    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist or an image folder (default: ${DEFAULT-VALUE})")
    String data;
    @Option(names = "--fashion-mnist-dir", description = "folder with the Fashion-MNIST IDX files")
    Path fashionDir;
    @Option(names = "--image-size", description = "crop size for image folders (default: the model's test size)")
    Integer imageSize;
    @Option(names = "--tta-flip", description = "average the logits of each image and its mirror image")
    boolean ttaFlip;
    @Option(names = "--threads", defaultValue = "0",
            description = "native threads; 0 = auto, as for train (default: ${DEFAULT-VALUE})")
    int threads;
    @Option(names = "--batch-size", defaultValue = "100", description = "default: ${DEFAULT-VALUE}")
    int batchSize;
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        OptionChecks.check(spec, java.util.Set.of("--batch-size"), java.util.Set.of());
        OptionChecks.checkSize(spec, "--image-size", imageSize);
        Path file = Files.isDirectory(weights) ? weights.resolve("weights.safetensors") : WeightsCache.resolve(weights);
        Weights.WeightFile wf = Weights.read(file);
        NFNetConfig mc = model != null ? Models.resolve(model) : wf.config().orElseThrow(() -> new IllegalArgumentException(
                file + " carries no model config; pass --model"));
        java.util.Optional<Integer> rerun = Threads.apply(threads, mc, imageSize == null ? mc.testSize() : imageSize);
        if (rerun.isPresent()) {
            return rerun.get();
        }
        NFNet net = new NFNet(mc);
        Weights.load(net, wf, name -> false);
        DataSets.Pair ds = DataSets.resolve(data, fashionDir, null,
                DataSets.folderOptions(mc.inChannels(), null, imageSize == null ? mc.testSize() : imageSize, null));
        var test = ds.test() != null ? ds.test() : ds.train();
        Path classes = file.toAbsolutePath().getParent() == null ? null : file.toAbsolutePath().getParent().resolve(TrainCommand.CLASSES_FILE);
        if (classes != null && Files.isRegularFile(classes)) {   // written by `nfnets train`: score by the run's class names
            test = DataSets.align(test, DataSets.readClassNames(classes), classes.toString());
        }
        System.out.println("evaluating on " + DataSets.describe(test) + (ds.test() == null ? " (a folder of class folders: all of it)" : ""));
        if (test.numClasses() != mc.numClasses() || test.channels() != mc.inChannels()) {
            throw new IllegalArgumentException("the data (" + test.description() + ": " + test.numClasses() + " classes, "
                    + test.channels() + " channels) does not fit the model (" + mc.numClasses() + " classes, "
                    + mc.inChannels() + " channels)");
        }
        Evaluator.Result r = Evaluator.evaluate(net, test, batchSize, ttaFlip);
        System.out.printf(Locale.ROOT, "top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%d images%s)%n", 100 * r.top1(), 100 * r.top5(),
                r.loss(), r.examples(), ttaFlip ? ", flip test-time augmentation" : "");
        return 0;
    }
}
