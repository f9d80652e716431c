package dev.nfnets.core;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockGradientTest {
    @org.junit.jupiter.api.BeforeEach
    void seed() {
        Nd4j.getRandom().setSeed(1234);
    }

    static void randomise(dev.nfnets.layers.Layer layer) {
        layer.castParameters(DataType.DOUBLE);
        for (Parameter p : layer.namedParameters().values()) {
            if (p.hasTag(dev.nfnets.layers.Tag.GAIN) || p.hasTag(dev.nfnets.layers.Tag.SKIP_GAIN)) {
                p.value().assign(Nd4j.rand(DataType.DOUBLE, p.shape()).addi(0.5));
            } else if (p.hasTag(dev.nfnets.layers.Tag.BIAS)) {
                p.value().assign(Nd4j.randn(DataType.DOUBLE, p.shape()).muli(0.1));
            }
        }
    }

    @Test
    void squeezeExcite() {
        SqueezeExcite se = new SqueezeExcite("se", 6, 3, 2.0);
        randomise(se);
        GradientCheck.Result r = GradientCheck.of(se).check(Nd4j.randn(DataType.DOUBLE, 2, 6, 3, 4));
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
    }

    @Test
    void stochasticDepthHasReferenceSemantics() {
        StochasticDepth sd = new StochasticDepth("sd", 0.25);
        sd.reseed(5);
        INDArray x = Nd4j.ones(DataType.DOUBLE, 4000, 1, 1, 1);
        INDArray y = sd.forward(x, Mode.TRAIN);
        double kept = y.meanNumber().doubleValue();
        assertEquals(0.75, kept, 0.03);
        assertEquals(1.0, y.maxNumber().doubleValue(), 0.0); // no 1/keep rescale
        assertEquals(x, sd.forward(x, Mode.EVAL));
        // in place: the same mask for the same seed, written into the caller's array
        sd.reseed(11);
        INDArray expected = sd.forward(x, Mode.TRAIN);
        sd.reseed(11);
        INDArray own = x.dup();
        INDArray same = sd.forwardInPlace(own, Mode.TRAIN);
        assertTrue(same == own, "returns its argument");
        assertEquals(expected, own);
        // per-example draws: examples 1000..2999 alone get the masks they get in the whole batch
        sd.reseed(11, 1000);
        INDArray shard = sd.forward(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1000, 3000)).dup(), Mode.TRAIN);
        assertEquals(expected.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1000, 3000)), shard);
        GradientCheck.Result r = GradientCheck.of(sd).beforeForward(() -> sd.reseed(9)).check(Nd4j.randn(DataType.DOUBLE, 6, 2, 2, 2));
        assertTrue(r.maxRelError() < 1e-8, "bound 1e-8: " + r);
    }

    @ParameterizedTest(name = "in={0} out={1} stride={2} size={3} sd={4}")
    @CsvSource({
            "8, 8, 1, 4, 0.0",     // identity shortcut
            "4, 8, 1, 5, 0.0",     // projection shortcut
            "8, 8, 2, 6, 0.0",     // avg-pool + projection, even size
            "8, 16, 2, 5, 0.0",    // odd size: partial pooling windows, 2 groups
            "8, 8, 1, 3, 0.3",     // with stochastic depth
    })
    // minAbsError 1e-8: the summed loss of a whole block is ~1e2, so central differences carry ~1e-9 of
    // round-off, which dominates the tiny SE-weight gradients
    void nfBlock(int in, int out, int stride, int size, double sd) {
        int mid = out / 2;
        int groups = mid / 4;
        NFBlock.BlockSpec spec = new NFBlock.BlockSpec(1, 0, 1, in, out, mid, groups, stride, 0.9, sd, out / 2);
        NFBlock block = new NFBlock("block", spec, 0.2, Activation.GELU, Gammas.of(Activation.GELU));
        randomise(block);
        GradientCheck.Result r = GradientCheck.of(block).maxElementsPerTensor(30).minAbsError(1e-8).beforeForward(() -> {
            if (block.stochasticDepth() != null) {
                block.stochasticDepth().reseed(3);
            }
        }).check(Nd4j.randn(DataType.DOUBLE, 3, in, size, size));
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
    }

    @Test
    void wholeTinyNetwork() {
        NFNetConfig cfg = NFNetConfig.builder(NFNetConfig.mnist()).name("tiny").inChannels(3).numClasses(5)
                .stem(new int[] {4, 8}, new int[] {2, 1}).stageWidths(8, 16).stageDepths(2, 1).stageStrides(1, 2)
                .groupWidth(4).finalConvChannels(16).dropRate(0.3).stochDepthRate(0.2).build();
        NFNet net = new NFNet(cfg);
        randomise(net);
        GradientCheck.Result r = GradientCheck.of(net).maxElementsPerTensor(8).minAbsError(1e-8).beforeForward(() -> net.reseed(17))
                .check(Nd4j.randn(DataType.DOUBLE, 2, 3, 9, 9));
        assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
    }
}
