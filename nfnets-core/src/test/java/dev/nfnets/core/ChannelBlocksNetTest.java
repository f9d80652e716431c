package dev.nfnets.core;

import dev.nfnets.layers.Conv2d;
import dev.nfnets.layers.Layer;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.memory.StepScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * With {@code nfnets.channelBlocks} the activations between each block's convolutions, and between the stem's, stay
 * in oneDNN's blocked layout; a training step and an inference pass give the same bits as with NCHW activations throughout.
 */
class ChannelBlocksNetTest {
    @AfterEach
    void release() {
        StepScope.releaseAll();
    }

    private record Run(float[] eval, float[] logits, float[] dx, Map<String, float[]> grads, boolean blocked) {
    }

    private static float[] bits(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    private static Run run(boolean channelBlocks, boolean recompute) {
        NFNetsOptions o = NFNetsOptions.defaults().toBuilder().channelBlocks(channelBlocks).recomputeActivations(recompute).build();
        NFNet net = new NFNet(RecomputedActivationsTest.small(), 11, o);
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28).subi(0.5);
        INDArray dy = Nd4j.rand(DataType.FLOAT, 4, 10).subi(0.5);
        float[] eval;
        try (StepScope ignored = StepScope.open("channel-blocks-eval", o)) {
            eval = bits(net.forward(x, Mode.EVAL));
        }
        try (StepScope ignored = StepScope.open("channel-blocks-train", o)) {
            net.reseed(99);
            float[] logits = bits(net.forward(x, Mode.TRAIN));
            boolean blocked = blockedInside(net);
            float[] dx = bits(net.backward(dy));
            net.clearCache();
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                grads.put(e.getKey(), bits(e.getValue().grad()));
            }
            return new Run(eval, logits, dx, grads, blocked);
        }
    }

    /** Whether every block's middle convolutions and the stem's later ones took blocked input in the last forward pass. */
    private static boolean blockedInside(NFNet net) {
        boolean first = true;
        for (Layer l : net.stem().children()) {
            if (l instanceof Conv2d c) {
                if (c.takesBlockedInput() == first) {
                    return false;
                }
                first = false;
            }
        }
        for (NFBlock b : net.blocks()) {
            for (Layer l : b.children()) {
                if (l instanceof Conv2d c && (l.name().equals("conv1") || l.name().equals("conv1b")) && !c.takesBlockedInput()) {
                    return false;
                }
            }
        }
        return true;
    }

    @ParameterizedTest(name = "activations recomputed {0}")
    @CsvSource({"true", "false"})
    void blockedActivationsGiveTheSameBits(boolean recompute) {
        Run plain = run(false, recompute);
        Run blocked = run(true, recompute);
        assertEquals(false, plain.blocked(), "off: NCHW throughout");
        assertEquals(true, blocked.blocked(), "on: the middle convolutions took blocked activations");
        assertArrayEquals(plain.eval(), blocked.eval(), "inference logits");
        assertArrayEquals(plain.logits(), blocked.logits(), "training logits");
        assertArrayEquals(plain.dx(), blocked.dx(), "input gradient");
        for (String name : plain.grads().keySet()) {
            assertArrayEquals(plain.grads().get(name), blocked.grads().get(name), "gradient of " + name);
        }
    }
}
