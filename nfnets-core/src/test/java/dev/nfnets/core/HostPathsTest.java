package dev.nfnets.core;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
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
 * Small parameters take host paths (weight standardisation, AGC, SGD; {@link HostArrays}), large FLOAT ones
 * the {@link FloatKernels} loops over native memory, anything else the native ops. All must compute the same
 * thing: each case runs on each path and is compared with the native one.
 */
class HostPathsTest {
    enum Path { HOST, FLOAT_KERNELS, NATIVE }

    /** Options that send every parameter down one path. */
    private static NFNetsOptions options(Path path) {
        return NFNetsOptions.builder().hostMaxElements(path == Path.HOST ? Long.MAX_VALUE : 0)
                .floatKernels(path == Path.FLOAT_KERNELS).build();
    }

    private static double maxRelDiff(INDArray a, INDArray b) {
        double scale = Math.max(a.amaxNumber().doubleValue(), 1e-30);
        return a.sub(b).amaxNumber().doubleValue() / scale;
    }

    /** Standardised kernel, output, and the gradients of input, raw weight, gain and bias. */
    private static INDArray[] wsStep(DataType type, boolean host) {
        return wsStep(type, host ? Path.HOST : Path.NATIVE, 6, 8, 2);
    }

    private static INDArray[] wsStep(DataType type, Path path, int in, int out, int groups) {
        {
            Nd4j.getRandom().setSeed(99);
            WSConv2d c = new WSConv2d("ws", in, out, 3, 1, groups);
            c.useOptions(options(path));
            c.castParameters(type);
            c.gain().value().assign(Nd4j.rand(type, out).addi(0.5));
            INDArray x = Nd4j.randn(type, 2, in, 5, 5);
            INDArray g = Nd4j.randn(type, 2, out, 5, 5);
            INDArray kernel;
            INDArray y;
            INDArray dx;
            try (StepScope s = StepScope.open("test", options(path))) {
                kernel = StepScope.detach(c.standardizedKernel());
                y = StepScope.detach(c.forward(x, Mode.TRAIN));
                dx = StepScope.detach(c.backward(g));
            }
            return new INDArray[] {kernel, y, dx, c.weight().grad().dup(), c.gain().grad().dup(), c.bias().grad().dup()};
        }
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

    /**
     * Large FLOAT kernels: the FloatKernels path against the native ops, once with a kernel small enough for
     * one thread and once with 96x96x3x3 = 82,944 elements, which the passes split over the threads.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {8, 96})
    void weightStandardisationAgreesOnTheFloatKernelPath(int channels) {
        INDArray[] kernels = wsStep(DataType.FLOAT, Path.FLOAT_KERNELS, channels, channels, 1);
        INDArray[] nat = wsStep(DataType.FLOAT, Path.NATIVE, channels, channels, 1);
        String[] names = {"kernel", "output", "input grad", "weight grad", "gain grad", "bias grad"};
        for (int i = 0; i < nat.length; i++) {
            double d = maxRelDiff(nat[i], kernels[i]);
            assertTrue(d < 2e-5, names[i] + ": float kernels and native differ by " + d);
        }
    }

    @Test
    void weightStandardisationGradientsAreExactOnTheNativePath() {
        {
            Nd4j.getRandom().setSeed(7);
            WSConv2d c = new WSConv2d("ws", 4, 6, 3, 2, 2);
            c.useOptions(options(Path.NATIVE));
            c.castParameters(DataType.DOUBLE);
            c.gain().value().assign(Nd4j.rand(DataType.DOUBLE, 6).addi(0.5));
            GradientCheck.Result r = GradientCheck.of(c).check(Nd4j.randn(DataType.DOUBLE, 2, 4, 6, 6));
            assertTrue(r.maxRelError() < 1e-6, "bound 1e-6: " + r);
        }
    }

    /** AGC + Nesterov SGD with weight decay over a few steps: parameters and momentum after each path. */
    private static Map<String, INDArray> optimizerRun(boolean host) {
        return optimizerRun(host ? Path.HOST : Path.NATIVE);
    }

    private static Map<String, INDArray> optimizerRun(Path path) {
        {
            Nd4j.getRandom().setSeed(5);
            Map<String, Parameter> params = new LinkedHashMap<>();
            params.put("w", new Parameter("w", Nd4j.randn(DataType.FLOAT, 3, 3, 4, 5), Tag.WEIGHT));
            params.put("fc", new Parameter("fc", Nd4j.randn(DataType.FLOAT, 7, 3), Tag.WEIGHT));
            // large enough for the FloatKernels passes to split over threads
            params.put("big", new Parameter("big", Nd4j.randn(DataType.FLOAT, 1, 1, 300, 200), Tag.WEIGHT));
            params.put("gain", new Parameter("gain", Nd4j.ones(DataType.FLOAT, 5), Tag.GAIN));
            params.put("skip", new Parameter("skip", Nd4j.zeros(DataType.FLOAT, 1), Tag.SKIP_GAIN));
            Agc opt = new Agc(Sgd.builder().learningRate(0.3).momentum(0.9).nesterov(true).weightDecay(0.01).build(), 0.05, 1e-3);
            opt.useOptions(options(path));
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
        }
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

    @Test
    void agcAndSgdAgreeOnTheFloatKernelPath() {
        Map<String, INDArray> kernels = optimizerRun(Path.FLOAT_KERNELS);
        Map<String, INDArray> nat = optimizerRun(Path.NATIVE);
        assertEquals(nat.keySet(), kernels.keySet());
        for (String k : nat.keySet()) {
            double d = maxRelDiff(nat.get(k), kernels.get(k));
            assertTrue(d < 1e-5, k + ": float kernels and native differ by " + d);
        }
    }

    /** Squeeze-excite's fused float backward against its native ops (input gradient and both dense layers'). */
    @Test
    void squeezeExciteAgreesOnTheFloatKernelPath() {
        Map<String, INDArray> results = new LinkedHashMap<>();
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 40, 9, 7);
        INDArray g = Nd4j.randn(DataType.FLOAT, 3, 40, 9, 7);
        for (boolean on : new boolean[] {true, false}) {
            {
                Nd4j.getRandom().setSeed(5);
                SqueezeExcite se = new SqueezeExcite("se", 40, 20, 2.0);
                se.useOptions(NFNetsOptions.builder().floatKernels(on).build());
                INDArray y = se.forward(x, Mode.TRAIN);
                results.put("output " + on, y);
                results.put("input gradient " + on, se.backward(g));
                se.namedParameters().forEach((k, p) -> results.put(k + " " + on, p.grad().dup()));
            }
        }
        for (String k : results.keySet()) {
            if (k.endsWith(" true")) {
                String base = k.substring(0, k.length() - 5);
                INDArray a = results.get(k);
                INDArray b = results.get(base + " false");
                double d = a.sub(b).amaxNumber().doubleValue() / Math.max(1e-30, b.amaxNumber().doubleValue());
                assertTrue(d < 1e-5, base + " differs by " + d);
            }
        }
        assertTrue(results.size() >= 12, results.keySet().toString());
    }
}
