package dev.nfnets.layers.testing;

import dev.nfnets.layers.Layer;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.SplittableRandom;

/**
 * Finite-difference check of a layer's backward pass in double precision.
 *
 * <p>The scalar checked is {@code L = sum(R * layer(x))} with a fixed random {@code R}; the analytic
 * gradients come from {@code backward(R)}, the numeric ones from central differences
 * {@code (L(v+h) - L(v-h)) / 2h} with {@code h = 1e-5}. The error of one element is
 * {@code |a - n| / max(|a| + |n|, floor)}, or 0 when {@code |a - n| < 1e-9}; the result reports the worst
 * over all checked elements.
 *
 * <pre>{@code
 * layer.castParameters(DataType.DOUBLE);
 * GradientCheck.Result r = GradientCheck.of(layer).check(x);     // x in DOUBLE
 * assertTrue(r.maxRelError() < 1e-6, r.toString());
 * }</pre>
 */
public final class GradientCheck {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GradientCheck.class);
    private final Layer layer;
    private double step = 1e-5;
    private double floor = 1e-7;
    private double minAbsError = 1e-9;
    private int maxElementsPerTensor = 200;
    private Runnable beforeForward = () -> { };
    private long seed = 42;

    private GradientCheck(Layer layer) {
        this.layer = layer;
    }

    public static GradientCheck of(Layer layer) {
        return new GradientCheck(layer);
    }

    /** Finite-difference step (default 1e-5). */
    public GradientCheck step(double h) {
        this.step = h;
        return this;
    }

    /** Denominator floor, so tiny gradients compare absolutely (default 1e-7). */
    public GradientCheck floor(double f) {
        this.floor = f;
        return this;
    }

    /**
     * Absolute differences below this count as agreement (default 1e-9): central differences of a summed
     * loss carry round-off of about {@code 1e-16 * |L| / h}, which dominates for near-zero gradients.
     */
    public GradientCheck minAbsError(double e) {
        this.minAbsError = e;
        return this;
    }

    /** Elements checked per tensor, chosen at random when the tensor is larger (default 200). */
    public GradientCheck maxElementsPerTensor(int n) {
        this.maxElementsPerTensor = n;
        return this;
    }

    /** Runs before every forward pass, e.g. to reseed stochastic layers so every pass draws the same mask. */
    public GradientCheck beforeForward(Runnable r) {
        this.beforeForward = r;
        return this;
    }

    /** Worst error overall and where it occurred. */
    /**
     * @param maxRelError    the checked quantity (differences below the absolute floor count as 0)
     * @param maxAbsError    largest |analytic - numeric| over all elements
     * @param maxRelErrorLarge largest relative error, ungated, over elements whose |analytic| + |numeric| >= 1e-3
     */
    public record Result(double maxRelError, String worstTensor, long worstIndex, double analytic, double numeric,
                         int elementsChecked, double maxAbsError, double maxRelErrorLarge) {
        @Override
        public String toString() {
            return String.format("max rel error %.3e at %s[%d] (analytic %.8e, numeric %.8e); max abs diff %.2e; "
                            + "max rel error on |g| >= 1e-3: %.2e; %d elements checked",
                    maxRelError, worstTensor, worstIndex, analytic, numeric, maxAbsError, maxRelErrorLarge, elementsChecked);
        }
    }

    public Result check(INDArray in) {
        if (in.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException("gradient checks need a DOUBLE input, got " + in.dataType());
        }
        for (Parameter p : layer.namedParameters().values()) {
            if (p.dataType() != DataType.DOUBLE) {
                throw new IllegalArgumentException("gradient checks need DOUBLE parameters; call castParameters(DOUBLE) first ("
                        + p.name() + " is " + p.dataType() + ")");
            }
        }
        INDArray x = in.dup('c');
        this.input = x;
        beforeForward.run();
        INDArray y = layer.forward(x, Mode.TRAIN);
        INDArray r = Nd4j.rand(DataType.DOUBLE, y.shape()).subi(0.5).muli(2);
        layer.zeroGrad();
        INDArray dx = layer.backward(r).dup();

        Worst worst = new Worst();
        compare("input", x, dx, r, worst);
        for (Map.Entry<String, Parameter> e : layer.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (!p.isFrozen()) {
                compare(e.getKey(), p.value(), p.grad().dup(), r, worst);
            }
        }
        layer.zeroGrad();
        layer.clearCache();
        Result result = new Result(worst.err, worst.tensor, worst.index, worst.analytic, worst.numeric, worst.count,
                worst.maxAbs, worst.maxRelLarge);
        LOG.info("gradient check {} {} on input {}: {}", layer.getClass().getSimpleName(), layer.name(),
                java.util.Arrays.toString(in.shape()), result);
        return result;
    }

    private void compare(String name, INDArray target, INDArray analytic, INDArray r, Worst worst) {
        // target is the live array (input copy or parameter value): perturb in place, always restore.
        INDArray flat = target.reshape(target.length());
        INDArray aflat = analytic.reshape(analytic.length());
        long n = target.length();
        SplittableRandom rnd = new SplittableRandom(seed ^ name.hashCode());
        int count = (int) Math.min(n, maxElementsPerTensor);
        for (int c = 0; c < count; c++) {
            long i = n <= maxElementsPerTensor ? c : rnd.nextLong(n);
            double orig = flat.getDouble(i);
            flat.putScalar(i, orig + step);
            double lp = loss(r);
            flat.putScalar(i, orig - step);
            double lm = loss(r);
            flat.putScalar(i, orig);
            double num = (lp - lm) / (2 * step);
            double a = aflat.getDouble(i);
            double diff = Math.abs(a - num);
            double err = diff < minAbsError ? 0 : diff / Math.max(Math.abs(a) + Math.abs(num), floor);
            worst.count++;
            worst.maxAbs = Math.max(worst.maxAbs, Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff);
            if (Math.abs(a) + Math.abs(num) >= 1e-3) {
                worst.maxRelLarge = Math.max(worst.maxRelLarge, diff / (Math.abs(a) + Math.abs(num)));
            }
            if (err > worst.err || Double.isNaN(err)) {
                worst.err = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                worst.tensor = name;
                worst.index = i;
                worst.analytic = a;
                worst.numeric = num;
            }
        }
    }

    private INDArray input;

    private double loss(INDArray r) {
        beforeForward.run();
        INDArray y = layer.forward(input, Mode.TRAIN);
        return y.mul(r).sumNumber().doubleValue();
    }

    private static final class Worst {
        double err;
        String tensor = "-";
        long index = -1;
        double analytic;
        double numeric;
        int count;
        double maxAbs;
        double maxRelLarge;
    }
}
