package dev.nfnets.layers.memory;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.Conv2d;
import dev.nfnets.layers.GlobalAvgPool;
import dev.nfnets.layers.Linear;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Padding;
import dev.nfnets.layers.Sequential;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.layers.optim.Sgd;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 400 training steps of a small conv net inside a step scope, with the trainer's GC cadence: resident memory
 * measured right after each periodic collection must not grow after the first one.
 */
class SoakTest {
    private static final Logger log = LoggerFactory.getLogger(SoakTest.class);
    static final long BOUND_MB = 64;

    @Test
    void residentMemoryIsFlatOver400Steps() throws IOException {
        Sequential net = new Sequential("net",
                new Conv2d("c1", 3, 32, 3, 2, Padding.SAME, 1, true),
                new ActivationLayer("a1", Activation.GELU, 1.7015043497085571),
                new Conv2d("c2", 32, 64, 3, 1, Padding.SAME, 2, true),
                new ActivationLayer("a2", Activation.GELU, 1.7015043497085571),
                new GlobalAvgPool("pool"),
                new Linear("fc", 64, 10));
        Sgd sgd = Sgd.builder().learningRate(0.01).momentum(0.9).weightDecay(1e-4).build();
        SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(0.1);
        INDArray x = Nd4j.randn(DataType.FLOAT, 16, 3, 48, 48);
        INDArray y = SoftmaxCrossEntropy.oneHot(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5}, 10, DataType.FLOAT);
        long afterWarmup = 0, peak = 0, sawtoothPeak = 0;
        double firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 400; step++) {
            try (StepScope scope = StepScope.open("soak")) {
                INDArray logits = net.forward(x, Mode.TRAIN);
                SoftmaxCrossEntropy.Result r = ce.compute(logits, y);
                net.backward(r.gradient());
                sgd.step(net.namedParameters());
                net.zeroGrad();
                net.clearCache();
                lastLoss = r.loss();
                if (step == 0) {
                    firstLoss = lastLoss;
                }
            }
            NativeMemory.collectEvery(step + 1, NativeMemory.DEFAULT_EVERY);   // what the Trainer does
            if ((step + 1) % NativeMemory.DEFAULT_EVERY == 0) {
                // right after the periodic collection: the baseline that must not creep up
                long rss = rssMb();
                if (step + 1 == NativeMemory.DEFAULT_EVERY) {
                    afterWarmup = rss;
                } else {
                    peak = Math.max(peak, rss);
                }
            }
            if (step % 10 == 0) {
                sawtoothPeak = Math.max(sawtoothPeak, rssMb());
            }
        }
        long end = rssMb();
        log.info("soak: RSS after the collection at step 100 {} MB, highest after the collections at 200-400 {} MB, "
                + "highest sampled between collections {} MB, end {} MB; loss {} -> {}",
                afterWarmup, peak, sawtoothPeak, end, firstLoss, lastLoss);
        assertTrue(lastLoss < firstLoss, "the net should learn the fixed batch: " + firstLoss + " -> " + lastLoss);
        assertTrue(peak - afterWarmup <= BOUND_MB,
                "RSS grew by " + (peak - afterWarmup) + " MB after warm-up (bound " + BOUND_MB + " MB)");
    }

    static long rssMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
