package dev.nfnets.examples;

import dev.nfnets.core.Agc;
import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.TrainStep;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.optim.Optimizer;
import dev.nfnets.layers.optim.Sgd;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Times one inference forward pass and one full training step (forward, loss, backward, AGC + SGD) of an
 * NFNet on random data, and prints milliseconds per step and images per second.
 *
 * <pre>
 *   java ... dev.nfnets.examples.BenchmarkStep [MODEL=f0] [BATCH=8] [SIZE=train size] [STEPS=5]
 * </pre>
 *
 * Each measurement runs inside a {@link StepScope}, as the trainer does, so memory stays flat. The first
 * steps are warm-up (native kernels pick their algorithms, the scope learns its size) and are not timed.
 */
public final class BenchmarkStep {
    private BenchmarkStep() {
    }

    /** Mean milliseconds of one forward (EVAL) and one training step, at {@code batch} images. */
    public record Timing(String model, int batch, int size, double forwardMs, double trainStepMs) {
        public double forwardImagesPerSecond() {
            return 1000.0 * batch / forwardMs;
        }

        public double trainImagesPerSecond() {
            return 1000.0 * batch / trainStepMs;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s batch %d at %dx%d: forward %.1f ms/step (%.1f img/s), "
                    + "train %.1f ms/step (%.1f img/s)", model, batch, size, size, forwardMs, forwardImagesPerSecond(),
                    trainStepMs, trainImagesPerSecond());
        }
    }

    public static void main(String[] args) {
        NFNetConfig config = NFNetConfig.byName(args.length > 0 ? args[0] : "f0");
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : config.trainSize();
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        System.out.println("ND4J backend: " + Nd4j.getBackend().getClass().getSimpleName()
                + ", threads: " + Runtime.getRuntime().availableProcessors());
        System.out.println(measure(config, batch, size, 2, steps));
    }

    @SuppressWarnings("try")   // the scopes are opened for their side effect
    public static Timing measure(NFNetConfig config, int batch, int size, int warmup, int steps) {
        NFNet model = new NFNet(config);
        Optimizer optimizer = new Agc(Sgd.builder().learningRate(1e-4).momentum(0.9).nesterov(true).weightDecay(2e-5).build());
        TrainStep step = TrainStep.builder(model, optimizer).loss(new SoftmaxCrossEntropy(0.1)).scope("bench-train").build();

        INDArray images = StepScope.outside(() -> Nd4j.randn(DataType.FLOAT, batch, config.inChannels(), size, size));
        int[] labels = new Random(0).ints(batch, 0, config.numClasses()).toArray();
        INDArray targets = StepScope.outside(() -> SoftmaxCrossEntropy.oneHot(labels, config.numClasses(), DataType.FLOAT));

        double forwardMs = time(warmup, steps, () -> {
            try (StepScope ignored = StepScope.open("bench-forward", model.options())) {
                model.forward(images, Mode.EVAL).sumNumber();   // reading a value waits for the result
            }
        });
        double trainMs = time(warmup, steps, () -> step.run(images, targets));
        return new Timing(config.name(), batch, size, forwardMs, trainMs);
    }

    private static double time(int warmup, int steps, Runnable step) {
        for (int i = 0; i < warmup; i++) {
            step.run();
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            step.run();
        }
        return (System.nanoTime() - t0) / 1e6 / Math.max(1, steps);
    }
}
