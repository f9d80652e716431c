package dev.nfnets.core;

import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.optim.Sgd;
import dev.nfnets.layers.testing.GradientCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small parameters take host paths (weight standardisation, AGC, SGD; {@link HostArrays}); large ones the
 * native ops. Both must compute the same thing: each case runs once with the host paths on and once with
 * them off and compares.
 */
class HostPathsTest {
    private final long defaultLimit = HostArrays.MAX_ELEMENTS;

    @AfterEach
    void restore() {
        HostArrays.setMaxElements(defaultLimit);
    }

    private static <T> T withHost(boolean on, Supplier<T> body) {
        long old = HostArrays.setMaxElements(on ? Long.MAX_VALUE : 0);
        try {
            return body.get();
        } finally {
            HostArrays.setMaxElements(old);
        }
    }

    private static double maxRelDiff(INDArray a, INDArray b) {
        double scale = Math.max(a.amaxNumber().doubleValue(), 1e-30);
        return a.sub(b).amaxNumber().doubleValue() / scale;
    }

    /** Standardised kernel, output, and the gradients of input, raw weight, gain and bias. */
    private static INDArray[] wsStep(DataType type, boolean host) {
        return withHost(host, () -> {
            Nd4j.getRandom().setSeed(99);
            WSConv2d c = new WSConv2d("ws", 6, 8, 3, 1, 2);
            c.castParameters(type);
            c.gain().value().assign(Nd4j.rand(type, 8).addi(0.5));
            INDArray x = Nd4j.randn(type, 2, 6, 5, 5);
            INDArray g = Nd4j.randn(type, 2, 8, 5, 5);
            INDArray kernel;
            INDArray y;
            INDArray dx;
            try (StepScope s = StepScope.open("test")) {
                kernel = StepScope.detach(c.standardizedKernel());
                y = StepScope.detach(c.forward(x, Mode.TRAIN));
                dx = StepScope.detach(c.backward(g));
            }
            return new INDArray[] {kernel, y, dx, c.weight().grad().dup(), c.gain().grad().dup(), c.bias().grad().dup()};
        });
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void weightStandardisationAgreesOnBothPaths(DataType type) {
        INDArray[] host = wsStep(type, true);
        INDArray[] nat = wsStep(type, false);
        double bound = type == DataType.FLOAT ? 2e-5 : 1e-12;
        String[] names = {"kernel", "output", "input grad", "weight grad", "gain grad", "bias grad"};
        for (int i = 0; i < host.length; i++) {
            double d = maxRelDiff(nat[i], host[i]);
            assertTrue(d < bound, names[i] + ": host and native differ by " + d + " (bound " + bound + ")");
        }
    }

    @Test
    void weightStandardisationGradientsAreExactOnTheNativePath() {
        withHost(false, () -> {
            Nd4j.getRandom().setSeed(7);
            WSConv2d c = new WSConv2d("ws", 4, 6, 3, 2, 2);
            c.castParameters(DataType.DOUBLE);
            c.gain().value().assign(Nd4j.rand(DataType.DOUBLE, 6).addi(0.5));
            GradientCheck.Result r = GradientCheck.of(c).check(Nd4j.randn(DataType.DOUBLE, 2, 4, 6, 6));
            assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
            return null;
        });
    }

    /** AGC + Nesterov SGD with weight decay over a few steps: parameters and momentum after each path. */
    private static Map<String, INDArray> optimizerRun(boolean host) {
        return withHost(host, () -> {
            Nd4j.getRandom().setSeed(5);
            Map<String, Parameter> params = new LinkedHashMap<>();
            params.put("w", new Parameter("w", Nd4j.randn(DataType.FLOAT, 3, 3, 4, 5), Tag.WEIGHT));
            params.put("fc", new Parameter("fc", Nd4j.randn(DataType.FLOAT, 7, 3), Tag.WEIGHT));
            params.put("gain", new Parameter("gain", Nd4j.ones(DataType.FLOAT, 5), Tag.GAIN));
            params.put("skip", new Parameter("skip", Nd4j.zeros(DataType.FLOAT, 1), Tag.SKIP_GAIN));
            Agc opt = new Agc(Sgd.builder().learningRate(0.3).momentum(0.9).nesterov(true).weightDecay(0.01).build(), 0.05, 1e-3);
            long clipped = 0;
            for (int step = 0; step < 3; step++) {
                for (Parameter p : params.values()) {
                    p.grad().assign(Nd4j.randn(DataType.FLOAT, p.shape()).muli(step + 1));
                }
                opt.step(params);
                clipped += opt.lastStats().groups().values().stream().mapToLong(AgcStats.Group::clipped).sum();
                params.values().forEach(Parameter::zeroGrad);
            }
            assertTrue(clipped > 0, "the test must exercise clipping");
            Map<String, INDArray> out = new LinkedHashMap<>();
            params.forEach((k, p) -> {
                out.put(k, p.value().dup());
                assertEquals(0.0, p.grad().amaxNumber().doubleValue(), "zeroGrad left a gradient in " + k);
            });
            out.putAll(opt.state());
            return out;
        });
    }

    @Test
    void agcAndSgdAgreeOnBothPaths() {
        Map<String, INDArray> host = optimizerRun(true);
        Map<String, INDArray> nat = optimizerRun(false);
        assertEquals(nat.keySet(), host.keySet());
        for (String k : nat.keySet()) {
            double d = maxRelDiff(nat.get(k), host.get(k));
            assertTrue(d < 1e-5, k + ": host and native differ by " + d);
        }
    }
}
