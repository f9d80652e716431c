package dev.nfnets.core;

import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Parameter;
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

/**
 * NFNet runs each block's backward pass (and inference forward passes) in a child memory scope that is recycled
 * for the next block. The results must be exactly those of the same computation without scopes.
 */
class ScopedBackwardTest {
    @AfterEach
    void release() {
        StepScope.releaseAll();
    }

    private static NFNetConfig small() {
        return NFNetConfig.builder(NFNetConfig.mnist()).stageWidths(new int[] {32, 64, 64}).stageDepths(new int[] {1, 2, 1})
                .groupWidth(16).finalConvChannels(128).build();
    }

    @Test
    void gradientsAndLogitsInsideAStepScopeEqualThoseWithout() {
        NFNet net = new NFNet(small(), 3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28);
        INDArray dy = Nd4j.rand(DataType.FLOAT, 4, 10).subi(0.5);

        INDArray logitsPlain = net.forward(x, Mode.TRAIN);
        INDArray dxPlain = net.backward(dy);
        Map<String, INDArray> gradsPlain = new LinkedHashMap<>();
        net.namedParameters().forEach((k, p) -> gradsPlain.put(k, p.grad().dup()));
        INDArray evalPlain = net.forward(x, Mode.EVAL);
        net.clearCache();
        net.zeroGrad();

        for (int step = 0; step < 3; step++) { // the scopes size themselves in the first step, then reuse memory
            try (StepScope scope = StepScope.open("scoped-backward-test")) {
                INDArray logits = net.forward(x, Mode.TRAIN);
                INDArray dx = net.backward(dy);
                assertTrue(dx.isAttached(), "input gradient lives in the step scope");
                assertEquals(logitsPlain, logits.detach());
                assertEquals(dxPlain, dx.detach());
                for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                    assertFalse(e.getValue().grad().isAttached(), e.getKey());
                    assertEquals(gradsPlain.get(e.getKey()), e.getValue().grad(), e.getKey() + " at step " + step);
                }
                assertEquals(evalPlain, net.forward(x, Mode.EVAL).detach());
                net.clearCache();
            }
            net.zeroGrad();
        }
    }
}
