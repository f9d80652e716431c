package dev.nfnets.core;

import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.memory.StepScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A whole NFNet's training step gives the same logits and gradients whichever way its pieces are computed:
 * native ND4J ops, the host loops, the {@link FloatKernels} passes, GELU gates kept or recomputed.
 */
class ExecutionPathsTest {
    @AfterEach
    void restore() {
        StepScope.releaseAll();
    }

    private static NFNetConfig small() {
        return NFNetConfig.builder(NFNetConfig.mnist()).stageWidths(new int[] {32, 64, 64}).stageDepths(new int[] {1, 2, 1})
                .groupWidth(16).finalConvChannels(128).build();
    }

    /** Logits, input gradient and every parameter gradient of one training step in a step scope. */
    private static Map<String, INDArray> step(long hostLimit, boolean kernels, boolean gates) {
        return step(NFNetsOptions.builder().hostMaxElements(hostLimit).floatKernels(kernels).build(), gates);
    }

    private static Map<String, INDArray> step(NFNetsOptions options, boolean gates) {
        NFNet net = new NFNet(small(), 3, options);
        net.keepActivationGates(gates);
        Nd4j.getRandom().setSeed(17);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28);
        INDArray dy = Nd4j.rand(DataType.FLOAT, 4, 10).subi(0.5);
        Map<String, INDArray> out = new LinkedHashMap<>();
        try (StepScope scope = StepScope.open("paths-test", options)) {
            net.reseed(5);
            out.put("logits", net.forward(x, Mode.TRAIN).detach());
            out.put("dx", net.backward(dy).detach());
        }
        net.namedParameters().forEach((k, p) -> out.put(k, p.grad().dup()));
        return out;
    }

    @Test
    void everyPathGivesTheSameStep() {
        Map<String, INDArray> nat = step(0, false, true);
        Map<String, INDArray> kernels = step(0, true, true);
        Map<String, INDArray> recomputed = step(0, true, false);
        Map<String, INDArray> host = step(Long.MAX_VALUE, true, true);
        Map<String, INDArray> reference = step(NFNetsOptions.builder().kernels(NFNetsOptions.Kernels.REFERENCE).build(), true);
        for (Map<String, INDArray> other : java.util.List.of(kernels, recomputed, host, reference)) {
            assertEquals(nat.keySet(), other.keySet());
            for (String k : nat.keySet()) {
                INDArray a = nat.get(k);
                double scale = Math.max(a.amaxNumber().doubleValue(), 1e-12);
                double d = a.sub(other.get(k)).amaxNumber().doubleValue() / scale;
                // float32 throughout; the skip gains' gradients are sums with cancellation (NFBlock)
                double bound = k.endsWith("skip_gain") ? 2e-3 : 1e-4;
                assertTrue(d < bound, k + " differs by " + d + " (relative to its largest element)");
            }
        }
    }

    @Test
    void smallModelsKeepGatesLargeOnesRecompute() {
        NFNetsOptions auto = NFNetsOptions.builder().activationGates(NFNetsOptions.Gates.AUTO).build();
        NFNet mnist = new NFNet(small(), auto);
        assertTrue(mnist.blocks().get(0).keepsActivationGates(), "nfnet-mnist (small) keeps gates");
        NFNet large = new NFNet(NFNetConfig.builder(small()).trainSize(448).build(), auto);
        assertFalse(large.blocks().get(0).keepsActivationGates(), "at 448 px the same net is large: recompute");
        NFNet forced = new NFNet(small(), auto.toBuilder().activationGates(NFNetsOptions.Gates.RECOMPUTE).build());
        assertFalse(forced.blocks().get(0).keepsActivationGates(), "recompute set in the options");
    }

    /** Every layer of a model computes with the model's options, including the blocks' unparameterised ones. */
    @Test
    void theModelsOptionsReachEveryLayer() {
        NFNetsOptions reference = NFNetsOptions.builder().kernels(NFNetsOptions.Kernels.REFERENCE).build();
        NFNet net = new NFNet(small(), 1, reference);
        java.util.List<dev.nfnets.layers.Layer> todo = new java.util.ArrayList<>(java.util.List.of(net));
        int seen = 0;
        while (!todo.isEmpty()) {
            dev.nfnets.layers.Layer l = todo.remove(todo.size() - 1);
            assertEquals(reference, ((dev.nfnets.layers.AbstractLayer) l).options(), l.toString());
            todo.addAll(l.children());
            seen++;
        }
        assertTrue(seen > 20, "layers visited: " + seen);
    }

    /** The seeded constructor is reproducible and leaves ND4J's global generator where it was. */
    @Test
    void seededConstructionLeavesTheGlobalGeneratorAlone() {
        Nd4j.getRandom().setSeed(123);
        double expected = Nd4j.getRandom().nextDouble();
        Nd4j.getRandom().setSeed(123);
        NFNet a = new NFNet(small(), 9);
        assertEquals(expected, Nd4j.getRandom().nextDouble(), 0.0, "the global generator moved");
        NFNet b = new NFNet(small(), 9);
        a.namedParameters().forEach((k, p) -> assertEquals(p.value(), b.namedParameters().get(k).value(), k));
    }
}
