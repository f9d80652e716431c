package dev.nfnets.core;

import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.Layer;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.memory.StepScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With {@code nfnets.foldActivationGains} the activations inside the blocks and between the stem's convolutions leave
 * their gains to the convolutions they feed, which fold them into their standardised kernels: the network computes
 * the same function, to float rounding, as with the gains applied to the activations.
 */
class FoldedActivationGainsTest {
    @AfterEach
    void release() {
        StepScope.releaseAll();
    }

    private record Run(INDArray eval, INDArray logits, INDArray dx, Map<String, INDArray> grads, List<Double> appliedGains) {
    }

    private static Run run(NFNetsOptions o) {
        NFNet net = new NFNet(RecomputedActivationsTest.small(), 11, o);
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28).subi(0.5);
        INDArray dy = Nd4j.rand(DataType.FLOAT, 4, 10).subi(0.5);
        INDArray eval;
        try (StepScope ignored = StepScope.open("fold-eval", o)) {
            eval = net.forward(x, Mode.EVAL).detach();
        }
        try (StepScope ignored = StepScope.open("fold-train", o)) {
            net.reseed(99);
            INDArray logits = net.forward(x, Mode.TRAIN).detach();
            List<Double> applied = new ArrayList<>();
            collectAppliedGains(net, applied);
            INDArray dx = net.backward(dy).detach();
            net.clearCache();
            Map<String, INDArray> grads = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                grads.put(e.getKey(), e.getValue().grad().detach());
            }
            return new Run(eval, logits, dx, grads, applied);
        }
    }

    private static void collectAppliedGains(Layer l, List<Double> out) {
        if (l instanceof ActivationLayer a) {
            out.add(a.appliedGain());
        }
        for (Layer c : l.children()) {
            collectAppliedGains(c, out);
        }
    }

    /** max |a - b| relative to max |b|. */
    private static double relError(INDArray a, INDArray b) {
        double scale = b.amaxNumber().doubleValue();
        return a.sub(b).amaxNumber().doubleValue() / (scale == 0 ? 1 : scale);
    }

    @ParameterizedTest(name = "activations recomputed {0}")
    @CsvSource({"true", "false"})
    void foldedGainsGiveTheSameFunctionAndGradients(boolean recompute) {
        NFNetsOptions base = NFNetsOptions.defaults().toBuilder().recomputeActivations(recompute).build();
        Run applied = run(base.toBuilder().foldActivationGains(false).build());
        Run folded = run(base.toBuilder().foldActivationGains(true).build());
        assertTrue(applied.appliedGains().stream().allMatch(g -> g > 1), "off: every activation applies its gain");
        // the stem's 3 activations and every block's 4 leave their gains; only the final activation applies its own
        long left = folded.appliedGains().stream().filter(g -> g == 1.0).count();
        assertEquals(folded.appliedGains().size() - 1, left, "on: all but the final activation leave their gains");
        assertTrue(relError(folded.eval(), applied.eval()) < 2e-5, "inference logits " + relError(folded.eval(), applied.eval()));
        assertTrue(relError(folded.logits(), applied.logits()) < 2e-5, "training logits");
        assertTrue(relError(folded.dx(), applied.dx()) < 1e-4, "input gradient " + relError(folded.dx(), applied.dx()));
        for (String name : applied.grads().keySet()) {
            double e = relError(folded.grads().get(name), applied.grads().get(name));
            assertTrue(e < 1e-4, "gradient of " + name + ": " + e);
        }
    }

    @Test
    void theReferenceKernelsApplyTheGainsThemselves() {
        NFNetsOptions reference = NFNetsOptions.defaults().toBuilder().kernels(NFNetsOptions.Kernels.REFERENCE)
                .foldActivationGains(true).build();
        assertFalse(reference.foldActivationGains(), "the reference kernels keep the reference's order of operations");
        assertTrue(run(reference).appliedGains().stream().allMatch(g -> g > 1));
    }
}
