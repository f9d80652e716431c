package dev.nfnets.core;

import dev.nfnets.layers.Conv2d;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Padding;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

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

    @Override
    protected void accumulateKernelGrad(INDArray kernelGrad) {
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
    }
}
