package dev.nfnets.core;

import dev.nfnets.layers.Conv2d;
import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Padding;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.FloatBuffer;

/**
 * Scaled weight-standardised convolution (NFNet reference {@code WSConv2D}): per output channel
 * {@code W_hat = (W - mean) * gain / sqrt(max(N * var, eps))}, with the population variance over the
 * {@code N = k*k*in/groups} fan-in entries and {@code eps = 1e-4} as a floor, then
 * {@code conv(x, W_hat) + bias}. Gain starts at 1, bias at 0 and the bias is always present.
 *
 * <p>The backward pass goes through the standardisation, so the raw weight and the gain receive exact
 * gradients:
 * {@code dW = s (G - mean(G)) - gain r^(-3/2) sum(G d) d} (the last term only where {@code N var > eps}),
 * {@code dgain = sum(G d) / sqrt(r)}, with {@code d = W - mean}, {@code r = max(N var, eps)},
 * {@code s = gain / sqrt(r)} and {@code G = dL/dW_hat}.
 */
public class WSConv2d extends Conv2d {
    public static final double EPS = 1e-4;

    private final Parameter gain;
    private final double eps;
    private Cache cache;

    private record Cache(INDArray centred, INDArray scale, INDArray rsqrt, INDArray active) {
    }

    /** The same quantities for a kernel standardised on the host, per output channel, in double precision. */
    private record HostCache(double[] centred, double[] scale, double[] rsqrt, double[] gain, boolean[] active) {
    }

    private HostCache hostCache;

    /** Per-channel quantities of a large FLOAT kernel standardised by {@link FloatKernels}; no centred copy. */
    private record FloatCache(double[] mean, double[] scale, double[] shift, double[] rsqrt, double[] gain,
                              boolean[] active) {
    }

    private FloatCache floatCache;

    public WSConv2d(String name, int in, int out, int kernel, int stride, int groups) {
        this(name, in, out, kernel, stride, groups, EPS);
    }

    public WSConv2d(String name, int in, int out, int kernel, int stride, int groups, double eps) {
        super(name, in, out, kernel, stride, Padding.SAME, groups, true);
        this.eps = eps;
        this.gain = addParameter(new Parameter("gain", Nd4j.ones(DataType.FLOAT, out), Tag.GAIN));
    }

    public Parameter gain() {
        return gain;
    }

    /** Fan-in N = k*k*in/groups. */
    public long fanIn() {
        return (long) kernelSize * kernelSize * (inChannels / groups);
    }

    /** The standardised kernel for the current weights (HWIO). */
    public INDArray standardizedKernel() {
        return standardize(false);
    }

    @Override
    protected INDArray effectiveKernel(Mode mode) {
        return standardize(mode.isTraining());
    }

    private INDArray standardize(boolean keep) {
        INDArray w = weight.value();
        hostCache = null;
        floatCache = null;
        if (HostArrays.eligible(options(), w, gain.value())) {
            return standardizeOnHost(w, keep);
        }
        if (FloatKernels.eligible(options(), w, gain.value())) {
            return standardizeFloat(w, keep);
        }
        long n = fanIn();
        INDArray w2 = w.reshape('c', n, outChannels);
        INDArray mean = w2.mean(0);
        INDArray centred = w2.subRowVector(mean);
        INDArray var = w2.var(false, 0);
        INDArray nvar = var.muli(n);
        INDArray r = Transforms.max(nvar, eps, true);
        INDArray rsqrt = Transforms.sqrt(r, false).rdivi(1.0);
        INDArray scale = rsqrt.mul(gain.value());
        // the reference's fused order: W * scale - mean * scale
        INDArray hat = w2.mulRowVector(scale).subiRowVector(mean.muli(scale));
        if (keep) {
            cache = new Cache(centred, scale, rsqrt, nvar.gt(eps).castTo(w.dataType()));
        } else {
            cache = null;
        }
        return hat.reshape('c', w.shape());
    }

    /**
     * Small kernels (up to {@link dev.nfnets.layers.NFNetsOptions#hostMaxElements()}) are standardised in one host loop: a dozen native
     * ops on a few thousand floats cost more in dispatch than the arithmetic. Same formula, in double
     * precision, rounded once to the kernel's type.
     */
    private INDArray standardizeOnHost(INDArray w, boolean keep) {
        int n = (int) fanIn();
        int out = outChannels;
        double[] wv = HostArrays.read(w);
        double[] g = HostArrays.read(gain.value());
        double[] mean = new double[out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                mean[o] += wv[i * out + o];
            }
        }
        for (int o = 0; o < out; o++) {
            mean[o] /= n;
        }
        double[] centred = new double[n * out];
        double[] sumSq = new double[out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double d = wv[i * out + o] - mean[o];
                centred[i * out + o] = d;
                sumSq[o] += d * d;
            }
        }
        // in float32 the reference's rounding steps are reproduced (var, N*var, rsqrt, *gain, then
        // W*scale - mean*scale with each product rounded): ill-conditioned sums downstream (the skip gains'
        // gradients) amplify even one-ulp differences in the kernel
        boolean f32 = w.dataType() == DataType.FLOAT;
        double[] rsqrt = new double[out];
        double[] scale = new double[out];
        double[] shift = new double[out];
        boolean[] active = new boolean[out];
        for (int o = 0; o < out; o++) {
            double nvar = round(f32, round(f32, sumSq[o] / n) * n);   // N * population variance
            active[o] = nvar > eps;
            rsqrt[o] = round(f32, 1.0 / Math.sqrt(Math.max(nvar, eps)));
            scale[o] = round(f32, rsqrt[o] * g[o]);
            shift[o] = round(f32, round(f32, mean[o]) * scale[o]);
        }
        double[] hat = new double[n * out];
        for (int i = 0; i < n * out; i++) {
            int o = i % out;
            hat[i] = round(f32, wv[i] * scale[o]) - shift[o];
        }
        INDArray result = Nd4j.create(w.dataType(), w.shape(), 'c');
        HostArrays.write(result, hat);
        cache = null;
        hostCache = keep ? new HostCache(centred, scale, rsqrt, g, active) : null;
        return result;
    }

    /**
     * Large FLOAT kernels: the host path's formula and rounding steps in three passes over the kernel's native
     * memory (column means, centred sums of squares, the standardised kernel), split over the cores by
     * {@link FloatKernels}; only per-channel numbers are kept for the backward pass, which recomputes
     * {@code W - mean} as it goes.
     */
    private INDArray standardizeFloat(INDArray w, boolean keep) {
        int n = (int) fanIn();
        int out = outChannels;
        FloatBuffer wb = FloatKernels.floats(w);
        double[] g = HostArrays.read(gain.value());
        double[] mean = new double[out];
        FloatKernels.columnSums(wb, n, out, mean);
        for (int o = 0; o < out; o++) {
            mean[o] /= n;
        }
        double[] sumSq = new double[out];
        FloatKernels.columnReduce(FloatKernels.ColumnSum.CENTRED_SQUARES, wb, null, n, out, mean, sumSq, null);
        double[] rsqrt = new double[out];
        double[] scale = new double[out];
        double[] shift = new double[out];
        boolean[] active = new boolean[out];
        for (int o = 0; o < out; o++) {
            double nvar = (float) ((float) (sumSq[o] / n) * n);
            active[o] = nvar > eps;
            rsqrt[o] = (float) (1.0 / Math.sqrt(Math.max(nvar, eps)));
            scale[o] = (float) (rsqrt[o] * g[o]);
            shift[o] = (float) ((float) mean[o] * scale[o]);
        }
        FloatCache c = new FloatCache(mean, scale, shift, rsqrt, g, active);
        floatCache = keep ? c : null;
        return writeStandardized(wb, c);
    }

    /** {@code W * scale - mean * scale} per channel, rounded as the reference does, into a new kernel. */
    private INDArray writeStandardized(FloatBuffer wb, FloatCache c) {
        int n = (int) fanIn();
        int out = outChannels;
        // scale and shift are float values, so float arithmetic rounds exactly as (float) (w * scale) - shift
        // in double would, and the JIT vectorises it
        float[] scale = toFloats(c.scale());
        float[] shift = toFloats(c.shift());
        INDArray result = Nd4j.createUninitialized(DataType.FLOAT, weight.value().shape(), 'c');
        FloatBuffer hb = FloatKernels.floats(result);
        FloatKernels.parallel(n, (long) n * out, (r0, r1) -> {
            float[] row = new float[out];
            for (int i = r0; i < r1; i++) {
                wb.get(i * out, row, 0, out);
                for (int o = 0; o < out; o++) {
                    row[o] = row[o] * scale[o] - shift[o];
                }
                hb.put(i * out, row, 0, out);
            }
        });
        return result;
    }

    @Override
    protected boolean keepsKernelForBackward() {
        // recomputing (for large FLOAT kernels one pass from the per-channel numbers the forward pass kept) saves
        // NFNet-F0 286 MB per training step for about 30 ms; the option nfnets.wsRecompute=false keeps the kernels
        return !options().wsRecompute();
    }

    @Override
    protected INDArray kernelForBackward() {
        FloatCache c = floatCache;
        if (c != null) {
            return writeStandardized(FloatKernels.floats(weight.value()), c);
        }
        return standardize(true);
    }

    /**
     * The backward pass of {@link #standardizeFloat}: one pass for the per-channel sums of {@code G} and
     * {@code G (W - mean)}, one that adds {@code dW} straight into the weight's gradient buffer.
     */
    private void accumulateKernelGradFloat(FloatCache c, INDArray kernelGrad) {
        int n = (int) fanIn();
        int out = outChannels;
        FloatBuffer gb = FloatKernels.floats(kernelGrad);
        FloatBuffer wb = FloatKernels.floats(weight.value());
        double[] gSum = new double[out];
        double[] gd = new double[out];
        double[] mean = c.mean();
        FloatKernels.columnReduce(FloatKernels.ColumnSum.SUM_AND_CENTRED_PRODUCT, gb, wb, n, out, mean, gSum, gd);
        double[] dGain = new double[out];
        double[] gMean = new double[out];
        double[] coef = new double[out];
        for (int o = 0; o < out; o++) {
            gMean[o] = gSum[o] / n;
            dGain[o] = gd[o] * c.rsqrt()[o];
            double r = c.rsqrt()[o];
            coef[o] = c.active()[o] ? r * r * r * c.gain()[o] * gd[o] : 0.0;
        }
        INDArray dGainArr = Nd4j.create(gain.dataType(), gain.shape(), 'c');
        HostArrays.write(dGainArr, dGain);
        gain.accumulateGrad(dGainArr);
        if (weight.isFrozen()) {
            return;
        }
        // float arithmetic on row copies (vectorised); the per-channel factors were computed in double
        float[] scale = toFloats(c.scale());
        float[] gMeanF = toFloats(gMean);
        float[] coefF = toFloats(coef);
        float[] meanF = toFloats(mean);
        // a gradient marked zero is overwritten, not read (Parameter#gradIsZero): one pass over memory fewer
        boolean fresh = weight.gradIsZero();
        FloatBuffer db = FloatKernels.floats(weight.gradForWriting());
        FloatKernels.parallel(n, (long) n * out, (r0, r1) -> {
            float[] gr = new float[out];
            float[] wr = new float[out];
            float[] dr = new float[out];
            for (int i = r0; i < r1; i++) {
                int base = i * out;
                gb.get(base, gr, 0, out);
                wb.get(base, wr, 0, out);
                if (fresh) {
                    java.util.Arrays.fill(dr, 0f); // a row in cache, not the stale buffer in memory
                } else {
                    db.get(base, dr, 0, out);
                }
                for (int o = 0; o < out; o++) {
                    dr[o] += (gr[o] - gMeanF[o]) * scale[o] - coefF[o] * (wr[o] - meanF[o]);
                }
                db.put(base, dr, 0, out);
            }
        });
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    private static double round(boolean toFloat, double v) {
        return toFloat ? (float) v : v;
    }

    private void accumulateKernelGradOnHost(HostCache c, INDArray kernelGrad) {
        int out = outChannels;
        int n = (int) fanIn();
        double[] gv = HostArrays.read(kernelGrad);
        double[] gd = new double[out];
        double[] gMean = new double[out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double gi = gv[i * out + o];
                gd[o] += gi * c.centred()[i * out + o];
                gMean[o] += gi;
            }
        }
        double[] dGain = new double[out];
        double[] coef = new double[out];
        for (int o = 0; o < out; o++) {
            gMean[o] /= n;
            dGain[o] = gd[o] * c.rsqrt()[o];
            double r = c.rsqrt()[o];
            coef[o] = c.active()[o] ? r * r * r * c.gain()[o] * gd[o] : 0.0;
        }
        double[] dw = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                int k = i * out + o;
                dw[k] = (gv[k] - gMean[o]) * c.scale()[o] - coef[o] * c.centred()[k];
            }
        }
        INDArray dGainArr = Nd4j.create(gain.dataType(), gain.shape(), 'c');
        HostArrays.write(dGainArr, dGain);
        gain.accumulateGrad(dGainArr);
        INDArray dwArr = Nd4j.create(weight.dataType(), weight.shape(), 'c');
        HostArrays.write(dwArr, dw);
        weight.accumulateGrad(dwArr);
    }

    @Override
    protected void accumulateKernelGrad(INDArray kernelGrad) {
        if (floatCache != null) {
            accumulateKernelGradFloat(floatCache, FloatKernels.dense(kernelGrad) ? kernelGrad : kernelGrad.dup('c'));
            return;
        }
        if (hostCache != null) {
            accumulateKernelGradOnHost(hostCache, HostArrays.eligible(options(), kernelGrad) ? kernelGrad : kernelGrad.dup('c'));
            return;
        }
        Cache c = cache;
        if (c == null) {
            throw new IllegalStateException("layer '" + name() + "': backward() called without a preceding forward(x, TRAIN)");
        }
        long n = fanIn();
        INDArray g2 = kernelGrad.reshape('c', n, outChannels);
        INDArray gd = g2.mul(c.centred()).sum(0);                         // sum(G d) per channel
        gain.accumulateGrad(gd.mul(c.rsqrt()));
        INDArray dw = g2.subRowVector(g2.mean(0)).muliRowVector(c.scale());
        // - gain * r^(-3/2) * sum(G d) * d, only where the variance floor is inactive
        INDArray coef = c.rsqrt().mul(c.rsqrt()).muli(c.rsqrt()).muli(gain.value()).muli(gd).muli(c.active());
        dw.subi(c.centred().mulRowVector(coef));
        weight.accumulateGrad(dw.reshape('c', weight.value().shape()));
    }

    @Override
    public void clearCache() {
        super.clearCache();
        cache = null;
        hostCache = null;
        floatCache = null;
    }
}
