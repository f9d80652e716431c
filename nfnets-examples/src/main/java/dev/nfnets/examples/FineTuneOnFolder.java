package dev.nfnets.examples;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.weights.ConfigJson;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.layers.Parameter;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.data.ImageFolderDataset;
import dev.nfnets.train.listen.ChartListener;
import dev.nfnets.train.listen.CsvMetricsListener;
import dev.nfnets.train.listen.LoggingListener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Fine-tunes a pretrained NFNet on a folder of images with one sub-folder per class.
 *
 * <pre>
 *   java ... dev.nfnets.examples.FineTuneOnFolder [--model f0] [--epochs 10] [--batch-size 32] [--size 192]
 *            [--freeze-stages 1] [--lr 0.1] WEIGHTS DATA_DIR [RUN_DIR=runs/fine-tune]
 * </pre>
 *
 * {@code WEIGHTS} may be a DeepMind {@code .npz}, a timm {@code dm_nfnet_f*.safetensors} (both need
 * {@code --model}) or a native {@code .safetensors} (its config is inside). {@code DATA_DIR} holds either
 * {@code train/} and {@code val/} (or {@code test/}) folders of classes, or the class folders directly, in which
 * case the accuracy printed at the end is on the training images.
 *
 * <p>Defaults follow the paper's fine-tuning recipe (Brock et al. 2021, appendix A.5) where it fits a small
 * run: SGD with Nesterov momentum 0.9, learning rate 0.1 without batch scaling, linear warm-up over the first
 * third of training then cosine decay to 0, weight decay 1e-5, dropout 0.25, stochastic depth 0.1, an EMA of
 * the weights, AGC with clipping 0.01. The classifier is new (sized for the folder's classes); the stem and the
 * first {@code --freeze-stages} stages keep their pretrained values (0 trains everything).
 */
public final class FineTuneOnFolder {
    private FineTuneOnFolder() {
    }

    /**
     * @param imageSize    crop size of the images (the shorter side is first resized to {@code imageSize + 32})
     * @param freezeStages 0: train everything; k: freeze the stem and stages 0..k-1
     * @param maxSteps     stop after this many steps (0: all epochs)
     */
    public record Settings(int imageSize, int batchSize, int epochs, long maxSteps, double learningRate,
                           int freezeStages, long seed) {
        public static Settings defaults(NFNetConfig model) {
            return new Settings(model.trainSize(), 32, 10, 0, 0.1, 1, 0);
        }
    }

    public static void main(String[] args) throws IOException {
        String model = null;
        Integer size = null;
        Integer batch = null;
        Integer epochs = null;
        Integer freeze = null;
        Double lr = null;
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--size" -> size = Integer.parseInt(args[++i]);
                case "--batch-size" -> batch = Integer.parseInt(args[++i]);
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--freeze-stages" -> freeze = Integer.parseInt(args[++i]);
                case "--lr" -> lr = Double.parseDouble(args[++i]);
                default -> positional.add(args[i]);
            }
        }
        if (positional.size() < 2) {
            System.err.println("usage: FineTuneOnFolder [--model f0] [--epochs N] [--batch-size N] [--size PX]"
                    + " [--freeze-stages K] [--lr LR] WEIGHTS DATA_DIR [RUN_DIR]");
            System.exit(2);
        }
        Path weights = Path.of(positional.get(0));
        Path data = Path.of(positional.get(1));
        Path runDir = Path.of(positional.size() > 2 ? positional.get(2) : "runs/fine-tune");

        NFNetConfig pretrained = model == null ? configInside(weights)
                : model.endsWith(".json") ? ConfigJson.read(Path.of(model)) : NFNetConfig.byName(model);
        Settings d = Settings.defaults(pretrained);
        Settings s = new Settings(size != null ? size : d.imageSize(), batch != null ? batch : d.batchSize(),
                epochs != null ? epochs : d.epochs(), 0, lr != null ? lr : d.learningRate(),
                freeze != null ? freeze : d.freezeStages(), d.seed());

        Trainer.Result r = fineTune(pretrained, weights, data, runDir, s);
        System.out.printf(Locale.ROOT, "after %d steps: top-1 %.2f%% on %d images (EMA weights)%n", r.steps(),
                100 * r.test().top1(), r.test().examples());
        System.out.println("fine-tuned weights: " + r.weights().toAbsolutePath());
    }

    /** The model config stored in a native weight file. */
    static NFNetConfig configInside(Path weights) throws IOException {
        return Weights.read(weights).config().orElseThrow(() -> new IllegalArgumentException(weights
                + " carries no model config (DeepMind or timm file): pass --model, e.g. --model f0"));
    }

    /** Fine-tunes {@code weights} (trained as {@code pretrained}) on the images under {@code dataDir}. */
    public static Trainer.Result fineTune(NFNetConfig pretrained, Path weights, Path dataDir, Path runDir, Settings s)
            throws IOException {
        // 1. data: train/ and val/ (or test/) folders of classes, or one folder of classes
        Path trainDir = Files.isDirectory(dataDir.resolve("train")) ? dataDir.resolve("train") : dataDir;
        Path valDir = Stream.of("val", "test").map(dataDir::resolve).filter(Files::isDirectory).findFirst().orElse(null);
        ImageFolderDataset train = ImageFolderDataset.open(trainDir, s.imageSize());
        ImageFolderDataset val = valDir == null ? train : ImageFolderDataset.open(valDir, s.imageSize());
        if (valDir == null) {
            System.out.println("no val/ or test/ folder under " + dataDir + ": evaluating on the training images");
        }

        // 2. the pretrained body with a new classifier for this folder's classes
        NFNetConfig config = NFNetConfig.builder(pretrained).numClasses(train.numClasses())
                .dropRate(0.25).stochDepthRate(0.1).trainSize(s.imageSize()).testSize(s.imageSize()).build();
        NFNet model = new NFNet(config);
        Weights.load(model, weights, name -> name.startsWith("classifier."));

        // 3. keep the stem and the first stages as they are
        int frozen = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            if (isEarly(e.getKey(), s.freezeStages())) {
                e.getValue().setFrozen(true);
                frozen++;
            }
        }
        System.out.printf(Locale.ROOT, "fine-tuning %s for %d classes %s; %d parameter tensors frozen%n",
                pretrained.name(), train.numClasses(), train.classNames(), frozen);

        // 4. the paper's fine-tuning recipe
        TrainingConfig tc = TrainingConfig.builder(config)
                .batchSize(s.batchSize()).epochs(s.epochs()).maxSteps(s.maxSteps())
                .learningRate(s.learningRate()).warmupEpochs(s.epochs() / 3.0)
                .momentum(0.9).nesterov(true).weightDecay(1e-5)
                .clipping(0.01).agcEps(1e-3).labelSmoothing(0.1).emaDecay(0.999)
                .flip(true).cropPadding(0).seed(s.seed())
                .build();
        Trainer trainer = new Trainer(tc, model, train, val, runDir);
        trainer.addListener(new LoggingListener(10));
        trainer.addListener(new CsvMetricsListener(runDir));
        trainer.addListener(new ChartListener(runDir, (int) Math.max(1, trainer.totalSteps() / 400)));
        Files.createDirectories(runDir);
        // the class names beside the weights: `./nfnets predict --weights RUN_DIR` picks them up
        Files.write(runDir.resolve("classes.txt"), train.classNames());
        return trainer.fit();
    }

    private static boolean isEarly(String name, int freezeStages) {
        if (freezeStages <= 0) {
            return false;
        }
        if (name.startsWith("stem.")) {
            return true;
        }
        for (int k = 0; k < freezeStages; k++) {
            if (name.startsWith("stages." + k + ".")) {
                return true;
            }
        }
        return false;
    }
}
