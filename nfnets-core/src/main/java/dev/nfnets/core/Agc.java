package dev.nfnets.core;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.kernels.AgcClipKernel;
import dev.nfnets.layers.kernels.Nd4jAgcClip;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.optim.Optimizer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Adaptive Gradient Clipping (Brock et al. 2021, section 4) wrapped around any optimizer. Before the
 * wrapped optimizer sees the gradients (so before weight decay and momentum), each unit {@code i} of each
 * parameter is rescaled where its gradient is large relative to its weights:
 * <pre>
 *   max_i = clipping * max(||W_i||, eps)
 *   G_i  <- G_i * max_i / max(||G_i||, 1e-6)     if ||G_i|| > max_i
 * </pre>
 * Units follow the reference's {@code unitwise_norm}: the whole tensor for scalars and vectors (gains,
 * biases, skip gains); each output column of a dense {@code (in, out)} weight; each output channel of an
 * HWIO kernel. By default every parameter except the classifier's weight is clipped (its bias is).
 *
 * <pre>{@code
 * Optimizer opt = new Agc(Sgd.builder().learningRate(0.1).momentum(0.9).nesterov(true).weightDecay(2e-5).build(),
 *                         0.01, 1e-3);
 * opt.step(model.namedParameters());
 * AgcStats s = ((Agc) opt).lastStats();   // clipped fraction per parameter group, max ||g||/||w||
 * }</pre>
 */
public final class Agc implements Optimizer {
    public static final double DEFAULT_CLIPPING = 0.01;
    public static final double DEFAULT_EPS = 1e-3;

    private final Optimizer delegate;
    private final double clipping;
    private final double eps;
    private final Predicate<Parameter> clipped;
    private volatile AgcStats lastStats = AgcStats.EMPTY;
    private NFNetsOptions options = NFNetsOptions.defaults();

    public Agc(Optimizer delegate) {
        this(delegate, DEFAULT_CLIPPING, DEFAULT_EPS);
    }

    /** The reference's choice of clipped parameters: every one but the classifier's weight (its bias is clipped). */
    public static final Predicate<Parameter> REFERENCE_FILTER = p -> !(p.hasTag(Tag.CLASSIFIER) && p.hasTag(Tag.WEIGHT));

    public Agc(Optimizer delegate, double clipping, double eps) {
        this(delegate, clipping, eps, REFERENCE_FILTER);
    }

    /** @param clipped which parameters AGC applies to (default: all but the classifier weight) */
    public Agc(Optimizer delegate, double clipping, double eps, Predicate<Parameter> clipped) {
        if (!(clipping > 0) || !(eps > 0)) {
            throw new IllegalArgumentException("AGC needs clipping > 0 and eps > 0, got " + clipping + ", " + eps);
        }
        this.delegate = delegate;
        this.clipping = clipping;
        this.eps = eps;
        this.clipped = clipped;
    }

    @Override
    public void useOptions(NFNetsOptions options) {
        this.options = java.util.Objects.requireNonNull(options, "options");
        delegate.useOptions(options);
    }

    public Optimizer delegate() {
        return delegate;
    }

    public double clipping() {
        return clipping;
    }

    public double eps() {
        return eps;
    }

    /** Telemetry of the last {@link #step}. */
    public AgcStats lastStats() {
        return lastStats;
    }

    @Override
    public void step(Map<String, Parameter> params) {
        Map<String, AgcStats.Group> groups = new LinkedHashMap<>();
        double maxRatio = 0;
        String maxRatioParam = "-";
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Parameter p = e.getValue();
            if (p.isFrozen() || !clipped.test(p)) {
                continue;
            }
            // the temporaries of one tensor (squares, norms) are recycled for the next inside a step scope
            Clip c = StepScope.nestedRun(() -> clip(options, p.value(), p.grad(), clipping, eps));
            groups.merge(AgcStats.groupOf(p), new AgcStats.Group(c.units, c.clippedUnits, c.maxRatio), AgcStats.Group::plus);
            if (c.maxRatio > maxRatio || Double.isNaN(c.maxRatio)) {
                maxRatio = c.maxRatio;
                maxRatioParam = e.getKey();
            }
        }
        lastStats = new AgcStats(delegate.stepCount(), groups, maxRatio, maxRatioParam);
        delegate.step(params);
    }

    private record Clip(long units, long clippedUnits, double maxRatio) {
    }

    /** Clips {@code grad} in place, unit-wise, against {@code value}: an {@link AgcClipKernel} chosen from the options. */
    static Clip clip(NFNetsOptions options, INDArray value, INDArray grad, double clipping, double eps) {
        long[] shape = value.shape();
        int nonSingleton = 0;
        for (long d : shape) {
            if (d != 1) {
                nonSingleton++;
            }
        }
        // the unit layout as a c-order (rows, units) matrix whose columns are the units
        long rows;
        if (nonSingleton <= 1) {
            rows = value.length();
        } else if (shape.length == 2 || shape.length == 3) {
            rows = shape[0];
        } else if (shape.length == 4) {
            rows = value.length() / shape[3];
        } else {
            throw new IllegalArgumentException("AGC: no unit-wise norm for a rank-" + shape.length + " parameter");
        }
        long cols = value.length() / rows;
        AgcClipKernel.Clip c = AgcClipKernel.choose(value, grad, options).clip(value, grad, (int) rows, (int) cols, clipping, eps);
        return new Clip(c.units(), c.clippedUnits(), c.maxRatio());
    }

    @Override
    public long stepCount() {
        return delegate.stepCount();
    }

    @Override
    public void setStepCount(long step) {
        delegate.setStepCount(step);
    }

    @Override
    public double currentLearningRate() {
        return delegate.currentLearningRate();
    }

    @Override
    public Map<String, INDArray> state() {
        return delegate.state();
    }

    @Override
    public void loadState(Map<String, INDArray> state) {
        delegate.loadState(state);
    }

    /** The L2 norm of each column of a c-order {@code (rows, units)} matrix ({@link Nd4jAgcClip#columnNorms}). */
    static INDArray columnNorms(INDArray m) {
        return Nd4jAgcClip.columnNorms(m);
    }
}
