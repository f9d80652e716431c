package dev.nfnets.train;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmaTest {
    private static INDArray run(boolean host, boolean kernels) {
        {
            Nd4j.getRandom().setSeed(3);
            Parameter p = new Parameter("w", Nd4j.randn(DataType.FLOAT, 200, 300), Tag.WEIGHT);
            Map<String, Parameter> params = new LinkedHashMap<>();
            params.put("w", p);
            Ema ema = new Ema(params, 0.9).useOptions(NFNetsOptions.builder()
                    .hostMaxElements(host ? Long.MAX_VALUE : 0).floatKernels(kernels).build());
            for (long step = 0; step < 4; step++) {
                p.value().addi(Nd4j.randn(DataType.FLOAT, 200, 300));
                ema.update(params, step);
            }
            return ema.shadow().get("w").dup();
        }
    }

    /** The host loop, the FloatKernels pass and the native ops compute the same average. */
    @Test
    void allPathsAgree() {
        INDArray nat = run(false, false);
        for (INDArray other : new INDArray[] {run(true, false), run(false, true)}) {
            double d = nat.sub(other).amaxNumber().doubleValue();
            assertTrue(d < 1e-5, "paths differ by " + d);
        }
    }

    /** decay_t = min(decay, (1 + t) / (10 + t)): the early steps follow the weights closely. */
    @Test
    void averageFollowsTheDecaySchedule() {
        Parameter p = new Parameter("b", Nd4j.zeros(DataType.FLOAT, 3), Tag.BIAS);
        Map<String, Parameter> params = Map.of("b", p);
        Ema ema = new Ema(params, 0.999);
        p.value().assign(1.0);
        ema.update(params, 0);
        assertEquals(0.9, ema.shadow().get("b").getDouble(0), 1e-6);
        assertEquals(0.999, ema.decayAt(1_000_000), 0.0);
    }
}
