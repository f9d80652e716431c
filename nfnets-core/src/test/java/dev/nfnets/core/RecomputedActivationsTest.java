package dev.nfnets.core;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.memory.StepScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training with {@code nfnets.recomputeActivations} (the blocks' activation outputs and gated residuals share one
 * scratch buffer and are recomputed in the backward pass) gives exactly the logits and gradients of keeping them,
 * with a smaller step scope.
 */
class RecomputedActivationsTest {
    @AfterEach
    void release() {
        StepScope.releaseAll();
    }

    /**
     * Transition blocks (stride 2, wider output), identity blocks, squeeze-excite and stochastic depth; every block's
     * middle width a multiple of 16 ({@link ChannelBlocksNetTest} uses it too).
     */
    static NFNetConfig small() {
        return NFNetConfig.builder(NFNetConfig.mnist()).stageWidths(new int[] {32, 64, 64}).stageDepths(new int[] {1, 2, 2})
                .groupWidth(16).finalConvChannels(128).stochDepthRate(0.5).build();
    }

    private record Run(INDArray logits, INDArray dx, Map<String, INDArray> grads, long scopeBytes) {
    }

    private static Run run(boolean recompute, boolean keepGates, int batch, int size) {
        NFNetsOptions o = NFNetsOptions.defaults().toBuilder().recomputeActivations(recompute).build();
        NFNet net = new NFNet(small(), 11, o);
        net.keepActivationGates(keepGates);
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 1, size, size).subi(0.5);
        INDArray dy = Nd4j.rand(DataType.FLOAT, batch, 10).subi(0.5);
        Run last = null;
        for (int step = 0; step < 2; step++) { // the second step runs in the memory the first one sized
            try (StepScope scope = StepScope.open("recompute-test-" + recompute, o)) {
                net.reseed(99);
                INDArray logits = net.forward(x, Mode.TRAIN).detach();
                INDArray dx = net.backward(dy).detach();
                net.clearCache();
                Map<String, INDArray> grads = new LinkedHashMap<>();
                for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                    grads.put(e.getKey(), StepScope.outside(() -> e.getValue().grad().dup()));
                }
                net.zeroGrad();
                last = new Run(logits, dx, grads, scope.reservedBytes());
            }
        }
        return last;
    }

    @ParameterizedTest(name = "gates kept {0}, batch {1}, {2} px")
    @CsvSource({"false, 4, 28", "true, 4, 28", "false, 3, 37"})
    void recomputedActivationsGiveTheSameStepInLessMemory(boolean keepGates, int batch, int size) {
        Run kept = run(false, keepGates, batch, size);
        Run recomputed = run(true, keepGates, batch, size);
        assertEquals(kept.logits(), recomputed.logits(), "logits");
        assertEquals(kept.dx(), recomputed.dx(), "input gradient");
        for (String name : kept.grads().keySet()) {
            assertEquals(kept.grads().get(name), recomputed.grads().get(name), "gradient of " + name);
        }
        assertTrue(recomputed.scopeBytes() < 0.8 * kept.scopeBytes(),
                "step scope " + recomputed.scopeBytes() + " bytes with recomputation, " + kept.scopeBytes() + " without");
    }

    @Test
    void aReleasedInputMustBeGivenAgainAndAnOutputBufferMustFit() {
        WSConv2d conv = new WSConv2d("conv", 4, 8, 3, 1, 1);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 4, 5, 5);
        INDArray y = conv.forward(x, Mode.TRAIN);
        conv.releaseInput();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> conv.backward(y));
        assertTrue(e.getMessage().contains("'conv'") && e.getMessage().contains("released"), e.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> conv.backward(y, Nd4j.rand(DataType.FLOAT, 2, 4, 5, 6)));
        assertTrue(shape.getMessage().contains("'conv'"), shape.getMessage());
        assertEquals(x.shape().length, conv.backward(y, x).rank());

        ActivationLayer act = new ActivationLayer("act", Activation.GELU, 1.7);
        IllegalArgumentException buffer = assertThrows(IllegalArgumentException.class,
                () -> act.forward(x, Mode.TRAIN, Nd4j.create(DataType.FLOAT, 2, 4, 5, 4)));
        assertTrue(buffer.getMessage().contains("'act'") && buffer.getMessage().contains("output buffer"), buffer.getMessage());
        INDArray out = Nd4j.create(DataType.FLOAT, 2, 4, 5, 5);
        INDArray a = act.forward(x, Mode.TRAIN, out);
        assertTrue(a == out || a.data().address() == out.data().address(), "written into the buffer");
        assertEquals(out, act.recomputeOutput());
    }
}
