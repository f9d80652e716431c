package dev.nfnets.examples;

import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.layers.memory.NativeThreads;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.FashionMnist;
import dev.nfnets.train.data.Split;
import dev.nfnets.train.listen.ChartListener;
import dev.nfnets.train.listen.CsvMetricsListener;
import dev.nfnets.train.listen.LoggingListener;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Trains the small Fashion-MNIST NFNet ({@link NFNetConfig#mnist()}) and prints its test accuracy.
 *
 * <pre>
 *   java ... dev.nfnets.examples.TrainFashionMnist [EPOCHS=3] [RUN_DIR=runs/fashion-mnist]
 * </pre>
 *
 * The run folder receives {@code checkpoint.safetensors} (resumable), {@code weights.safetensors} (EMA weights
 * that {@code NFNets.load(path)} reads), {@code metrics.csv}, {@code eval.csv}, {@code agc.csv} and
 * {@code curves.png}. The full dataset is used when {@code /usr/share/datasets/fashion-mnist} exists,
 * otherwise the 6,000/1,000-image subset inside the jar.
 */
public final class TrainFashionMnist {
    private TrainFashionMnist() {
    }

    public static void main(String[] args) throws IOException {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path runDir = Path.of(args.length > 1 ? args[1] : "runs/fashion-mnist");

        FashionMnist train = FashionMnist.load(Split.TRAIN, null);
        FashionMnist test = FashionMnist.load(Split.TEST, null);
        System.out.println("data: " + train.source());
        // a model this small trains faster on one native thread (NativeThreads explains why)
        NativeThreads.set(NativeThreads.auto(ModelSummary.of(NFNetConfig.mnist(), 28).totalMacs(),
                Runtime.getRuntime().availableProcessors()));

        Trainer.Result r = train(config(NFNetConfig.mnist(), epochs, 0), train, test, runDir);
        System.out.printf(Locale.ROOT, "test accuracy (EMA weights): top-1 %.2f%%, top-5 %.2f%% on %d images%n",
                100 * r.test().top1(), 100 * r.test().top5(), r.test().examples());
        System.out.println("run folder: " + r.runDir().toAbsolutePath());
    }

    /**
     * The NFNet recipe at Fashion-MNIST scale: SGD with Nesterov momentum 0.9, peak learning rate 0.1 after half
     * an epoch of linear warm-up, cosine decay to 0, weight decay 2e-5 on kernels only, AGC with clipping 0.1
     * (a larger threshold suits batch 128) that leaves the zero-initialised skip gains alone (with the reference's
     * eps of 1e-3 they would stay near 0 for the whole short run), label smoothing 0.1, an EMA of the weights,
     * horizontal flips and no random crops: the same as {@code ./nfnets train}.
     *
     * @param maxSteps stop after this many steps (0: run all epochs)
     */
    public static TrainingConfig config(NFNetConfig model, int epochs, long maxSteps) {
        return TrainingConfig.builder(model)
                .epochs(epochs).maxSteps(maxSteps).batchSize(128)
                .learningRate(0.1).warmupEpochs(0.5)
                .momentum(0.9).nesterov(true).weightDecay(2e-5)
                .clipping(0.1).agcEps(1e-3).agcSkipGains(false)
                .labelSmoothing(0.1).emaDecay(0.999)
                .cropPadding(0).flip(true)
                .seed(42)
                .build();
    }

    /** Trains on {@code train}, evaluates on {@code test}, and writes everything into {@code runDir}. */
    public static Trainer.Result train(TrainingConfig config, Dataset train, Dataset test, Path runDir) throws IOException {
        Trainer trainer = new Trainer(config, train, test, runDir);
        trainer.addListener(new LoggingListener(100));
        trainer.addListener(new CsvMetricsListener(runDir));
        // about 400 points on the curves, whatever the run length
        trainer.addListener(new ChartListener(runDir, (int) Math.max(1, trainer.totalSteps() / 400)));
        return trainer.fit();
    }
}
