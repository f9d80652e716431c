package dev.nfnets.layers.optim;

import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SgdTest {
    private static Map<String, Parameter> params(Parameter... ps) {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : ps) {
            m.put(p.name(), p);
        }
        return m;
    }

    @Test
    void nesterovWithDecayTwoStepsByHand() {
        Parameter w = new Parameter("w", Nd4j.createFromArray(1.0, -2.0), Tag.WEIGHT);
        Parameter b = new Parameter("b", Nd4j.createFromArray(0.5), Tag.BIAS);
        Sgd sgd = Sgd.builder().learningRate(0.1).momentum(0.9).nesterov(true).weightDecay(0.01).build();
        Map<String, Parameter> ps = params(w, b);

        w.grad().assign(Nd4j.createFromArray(0.2, 0.4));
        b.grad().assign(Nd4j.createFromArray(1.0));
        sgd.step(ps);
        // w: g = 0.2 + 0.01*1 = 0.21; buf = 0.21; u = 0.21 + 0.9*0.21 = 0.399; w = 1 - 0.0399
        assertEquals(0.9601, w.value().getDouble(0), 1e-12);
        // w[1]: g = 0.4 - 0.02 = 0.38; u = 0.722; w = -2.0722
        assertEquals(-2.0722, w.value().getDouble(1), 1e-12);
        // b has no decay: g = 1, u = 1.9; b = 0.5 - 0.19
        assertEquals(0.31, b.value().getDouble(0), 1e-12);

        w.zeroGrad();
        b.zeroGrad();
        w.grad().assign(Nd4j.createFromArray(0.0, 0.0));
        b.grad().assign(Nd4j.createFromArray(0.0));
        sgd.step(ps);
        // w[0]: g = 0.01*0.9601 = 0.009601; buf = 0.9*0.21 + 0.009601 = 0.198601; u = 0.009601 + 0.9*0.198601
        double u = 0.009601 + 0.9 * 0.198601;
        assertEquals(0.9601 - 0.1 * u, w.value().getDouble(0), 1e-12);
        // b: g = 0; buf = 0.9; u = 0.81
        assertEquals(0.31 - 0.081, b.value().getDouble(0), 1e-12);
        assertEquals(2, sgd.stepCount());
    }

    @Test
    void plainMomentumAndFrozen() {
        Parameter w = new Parameter("w", Nd4j.createFromArray(1.0), Tag.WEIGHT);
        Parameter f = new Parameter("f", Nd4j.createFromArray(1.0), Tag.WEIGHT);
        f.setFrozen(true);
        Sgd sgd = Sgd.builder().learningRate(1).momentum(0.5).nesterov(false).build();
        w.grad().assign(1.0);
        sgd.step(params(w, f));
        sgd.step(params(w, f));
        // buf1 = 1, w = 0; buf2 = 0.5 + 1 = 1.5, w = -1.5
        assertEquals(-1.5, w.value().getDouble(0), 1e-12);
        assertEquals(1.0, f.value().getDouble(0), 0.0);
    }

    @Test
    void stateRoundTrip() {
        Parameter w = new Parameter("w", Nd4j.createFromArray(1.0, 2.0), Tag.WEIGHT);
        Sgd a = Sgd.builder().learningRate(0.1).build();
        w.grad().assign(1.0);
        a.step(params(w));
        Sgd b = Sgd.builder().learningRate(0.1).build();
        b.loadState(a.state());
        b.setStepCount(a.stepCount());
        assertEquals(a.state().get("momentum/w"), b.state().get("momentum/w"));
        assertThrows(IllegalArgumentException.class, () -> b.loadState(Map.of("velocity/w", Nd4j.zeros(DataType.DOUBLE, 2))));
    }
}
