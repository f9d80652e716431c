package dev.nfnets.core;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.optim.Optimizer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.FloatBuffer;
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

    /** Clips {@code grad} in place, unit-wise, against {@code value}. */
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
        if (HostArrays.eligible(options, value, grad)) {
            return clipOnHost(value, grad, (int) rows, (int) cols, clipping, eps);
        }
        if (FloatKernels.eligible(options, value, grad)) {
            return clipFloat(value, grad, (int) rows, (int) cols, clipping, eps);
        }
        INDArray p2 = value.reshape('c', rows, cols);
        INDArray g2 = grad.reshape('c', rows, cols);
        // the per-unit arithmetic runs on the host: a few hundred floats per tensor, where a dozen tiny native
        // ops per tensor (hundreds of tensors per step) cost more than the norms themselves
        double[] pn = columnNorms(p2).toDoubleVector();
        double[] gn = columnNorms(g2).toDoubleVector();
        double[] factor = new double[pn.length];
        Clip result = factors(pn, gn, clipping, eps, factor);
        if (result.clippedUnits > 0) { // otherwise the gradient stays as it is: skip a pass over it
            g2.muliRowVector(Nd4j.createFromArray(factor).castTo(g2.dataType()));
        }
        return result;
    }

    /**
     * Small tensors entirely on the host: one copy of the weights and the gradient in, the column norms and
     * the rescaling in double precision, one copy of the gradient out (only when a unit was clipped).
     */
    private static Clip clipOnHost(INDArray value, INDArray grad, int rows, int cols, double clipping, double eps) {
        double[] w = HostArrays.read(value);
        double[] g = HostArrays.read(grad);
        double[] pn = new double[cols];
        double[] gn = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int k = r * cols + c;
                pn[c] += w[k] * w[k];
                gn[c] += g[k] * g[k];
            }
        }
        double[] factor = new double[cols];
        Clip result = factorsFromSquares(pn, gn, clipping, eps, factor);
        if (result.clippedUnits > 0) {
            for (int k = 0; k < g.length; k++) {
                g[k] *= factor[k % cols];
            }
            HostArrays.write(grad, g);
        }
        return result;
    }

    /**
     * Large FLOAT tensors: the column sums of squares of the weights and the gradient in one read-only pass
     * over their native memory each ({@link FloatKernels#columnSquares}), and a rescaling pass only when a unit
     * was clipped.
     */
    private static Clip clipFloat(INDArray value, INDArray grad, int rows, int cols, double clipping, double eps) {
        FloatBuffer w = FloatKernels.floats(value);
        FloatBuffer g = FloatKernels.floats(grad);
        double[] pn = new double[cols];
        double[] gn = new double[cols];
        FloatKernels.columnSquares(w, rows, cols, pn);
        FloatKernels.columnSquares(g, rows, cols, gn);
        double[] factor = new double[cols];
        Clip result = factorsFromSquares(pn, gn, clipping, eps, factor);
        if (result.clippedUnits > 0) {
            // row by row through Java arrays, in loops the JIT vectorises (float -> double, product, -> float)
            FloatKernels.parallel(rows, (long) rows * cols, (r0, r1) -> {
                float[] row = new float[cols];
                double[] d = new double[cols];
                for (int r = r0; r < r1; r++) {
                    g.get(r * cols, row, 0, cols);
                    for (int c = 0; c < cols; c++) {
                        d[c] = row[c];
                    }
                    for (int c = 0; c < cols; c++) {
                        d[c] *= factor[c];
                    }
                    for (int c = 0; c < cols; c++) {
                        row[c] = (float) d[c];
                    }
                    g.put(r * cols, row, 0, cols);
                }
            });
        }
        return result;
    }

    /** {@link #factors} from per-unit sums of squares (turned into norms in place). */
    private static Clip factorsFromSquares(double[] pSq, double[] gSq, double clipping, double eps, double[] factor) {
        for (int c = 0; c < pSq.length; c++) {
            pSq[c] = Math.sqrt(pSq[c]);
            gSq[c] = Math.sqrt(gSq[c]);
        }
        return factors(pSq, gSq, clipping, eps, factor);
    }

    /** Per-unit rescaling factors (1 where a unit is not clipped) and the statistics of one tensor. */
    private static Clip factors(double[] pn, double[] gn, double clipping, double eps, double[] factor) {
        long clippedUnits = 0;
        double ratio = 0;
        for (int i = 0; i < pn.length; i++) {
            double w = Math.max(pn[i], eps);
            double maxNorm = clipping * w;
            double r = gn[i] / w;
            if (r > ratio || Double.isNaN(r)) {
                ratio = Double.isNaN(ratio) ? ratio : r;
            }
            if (gn[i] > maxNorm) {
                factor[i] = maxNorm / Math.max(gn[i], 1e-6);
                clippedUnits++;
            } else {
                factor[i] = 1;
            }
        }
        return new Clip(pn.length, clippedUnits, ratio);
    }

    /**
     * The L2 norm of each column of a c-order {@code (rows, units)} matrix, as a vector of length {@code units}.
     * ND4J reduces along dimension 0 one strided column at a time (measured 5-6 ms for a 1152x1536 float
     * matrix on two cores); squaring into a temporary and summing the rows with one GEMM against a vector of
     * ones reads memory in order and took 1.6-4 ms. Over F0's 71.5M parameters (weights and gradients) that
     * is most of AGC's time.
     */
    static INDArray columnNorms(INDArray m) {
        long rows = m.size(0);
        if (rows == 1 || m.size(1) == 1 || m.length() < 65_536) { // small: one native op beats five
            return m.norm2(0);
        }
        INDArray sq = m.dup('c').muli(m);
        INDArray ones = Nd4j.ones(m.dataType(), rows, 1);
        return Transforms.sqrt(Nd4j.gemm(sq, ones, true, false), false).reshape(m.size(1));
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
}
