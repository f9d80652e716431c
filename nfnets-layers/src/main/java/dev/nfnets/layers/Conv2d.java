package dev.nfnets.layers;

import dev.nfnets.layers.memory.StepScope;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * 2-D convolution on NCHW activations with an HWIO kernel {@code (k, k, inChannels/groups, outChannels)}
 * (the layout of the NFNet reference checkpoints), optional bias, stride, TF-style SAME or VALID padding
 * and grouped channels.
 *
 * <p>Three ways to compute it, chosen per call: spatial FLOAT convolutions go to oneDNN directly
 * ({@link OneDnnConv}: grouped convolutions as one primitive); large pointwise ones run as GEMMs; the rest (and
 * everything when oneDNN's natives are missing or ND4J's platform helpers are off) through ND4J's
 * conv2d / conv2d_bp, which has no grouped convolution: one call per group over channel views of the input,
 * each writing into a view of one preallocated output. Subclasses may transform the stored kernel before use ({@link #effectiveKernel}) and route its gradient
 * ({@link #accumulateKernelGrad}); this is how weight standardisation plugs in.
 *
 * <pre>{@code
 * Conv2d conv = new Conv2d("conv1", 128, 256, 3, 2, Padding.SAME, 2, true);
 * INDArray y = conv.forward(x, Mode.TRAIN);   // x (N,128,H,W) -> y (N,256,ceil(H/2),ceil(W/2))
 * }</pre>
 */
public class Conv2d extends AbstractLayer {
    protected final int inChannels;
    protected final int outChannels;
    protected final int kernelSize;
    protected final int stride;
    protected final int groups;
    protected final Padding padding;
    protected final Parameter weight;
    protected final Parameter bias;

    private INDArray cachedInput;
    private INDArray cachedKernel;

    public Conv2d(String name, int inChannels, int outChannels, int kernelSize, int stride, Padding padding,
                  int groups, boolean withBias) {
        super(name);
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || groups <= 0) {
            throw new IllegalArgumentException("layer '" + name + "': channels, kernel size, stride and groups must be positive"
                    + " (in=" + inChannels + ", out=" + outChannels + ", k=" + kernelSize + ", s=" + stride + ", groups=" + groups + ")");
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("layer '" + name + "': groups=" + groups + " must divide in=" + inChannels
                    + " and out=" + outChannels);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.groups = groups;
        this.padding = padding;
        long fanIn = (long) kernelSize * kernelSize * (inChannels / groups);
        INDArray w = Nd4j.randn(DataType.FLOAT, kernelSize, kernelSize, inChannels / groups, outChannels)
                .muli(Math.sqrt(1.0 / fanIn));
        this.weight = addParameter(new Parameter("weight", w, Tag.WEIGHT));
        this.bias = withBias ? addParameter(new Parameter("bias", Nd4j.zeros(DataType.FLOAT, outChannels), Tag.BIAS)) : null;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int kernelSize() {
        return kernelSize;
    }

    public int stride() {
        return stride;
    }

    public int groups() {
        return groups;
    }

    public Padding padding() {
        return padding;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    /** Multiply-accumulates for one example at the given input size (the NFNet reference convention). */
    public long macs(long h, long w) {
        long oh = padding.outputSize(h, kernelSize, stride);
        long ow = padding.outputSize(w, kernelSize, stride);
        return (long) outChannels * oh * ow * (inChannels / groups) * kernelSize * kernelSize;
    }

    @Override
    public long[] outputShape(long[] in) {
        Shapes.check(name(), "input", in, new long[] {-1, inChannels, -1, -1});
        return new long[] {in[0], outChannels, padding.outputSize(in[2], kernelSize, stride),
                padding.outputSize(in[3], kernelSize, stride)};
    }

    /** The kernel actually convolved with; the stored weight by default. */
    protected INDArray effectiveKernel(Mode mode) {
        return weight.value();
    }

    /**
     * Whether the forward pass keeps the effective kernel for the backward pass (default) or the backward pass
     * asks {@link #kernelForBackward} for it again: a subclass whose kernel is cheap to recompute saves a
     * kernel-sized array per layer for the whole step.
     */
    protected boolean keepsKernelForBackward() {
        return true;
    }

    /** The effective kernel again, for a backward pass when {@link #keepsKernelForBackward} is false. */
    protected INDArray kernelForBackward() {
        return effectiveKernel(Mode.TRAIN);
    }

    /** Receives dL/d(effective kernel); by default it is the stored weight's gradient. */
    protected void accumulateKernelGrad(INDArray kernelGrad) {
        weight.accumulateGrad(kernelGrad);
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return profileForward(x, () -> forwardImpl(x, mode));
    }

    private INDArray forwardImpl(INDArray x, Mode mode) {
        checkInput(x, new long[] {-1, inChannels, -1, -1});
        if (x.dataType() != weight.dataType()) {
            throw new IllegalArgumentException("layer '" + name() + "': input is " + x.dataType() + " but weights are "
                    + weight.dataType());
        }
        if (padding == Padding.VALID && (x.size(2) < kernelSize || x.size(3) < kernelSize)) {
            throw new IllegalArgumentException("layer '" + name() + "': input " + Shapes.str(x.shape())
                    + " is smaller than the " + kernelSize + "x" + kernelSize + " kernel with VALID padding");
        }
        // every element is written by the convolution: no zero fill
        INDArray y = Nd4j.createUninitialized(x.dataType(), outputShape(x.shape()));
        if (!mode.isTraining()) {
            // inference runs each block in its own child scope already (NFNet), reset after the block
            convolve(x, effectiveKernel(mode), y);
            cachedKernel = null;
        } else if (keepsKernelForBackward()) {
            INDArray kernel = effectiveKernel(mode);
            convolve(x, kernel, y);
            cachedKernel = kernel;
        } else {
            // the kernel is not needed after this call: build it in a child scope that is reset on return, so
            // it does not stay in the step's workspace until the end of the step
            StepScope.nestedRun(() -> {
                convolve(x, effectiveKernel(mode), y);
                return null;
            });
            cachedKernel = null;
        }
        cachedInput = mode.isTraining() ? x : null;
        return y;
    }

    /**
     * Pointwise (1x1, stride 1, ungrouped) convolutions run as one GEMM per example on NCHW planes: measured
     * 2-3x faster than ND4J's conv2d/conv2d_bp for NFNet-F0's shapes (forward and backward; docs/BENCHMARKS.md).
     * The option {@code nfnets.pointwiseGemm=false} keeps the convolution op, and so does ND4J with its platform
     * helpers switched off ({@code allowHelpers(false)}: the generic kernels, which the reference parity check
     * uses for the closest agreement with the reference's rounding). Below
     * {@link NFNetsOptions#pointwiseMinMacs()} multiply-accumulates per example the per-example GEMMs cost more in
     * calls than they save: {@code nfnet-mnist} at batch 128 (64 x 32 channels on 14 x 14 planes, 0.4M per
     * example) trained 1.6x slower per step with them (docs/BENCHMARKS.md); F0's 1x1s are 10M-170M per example.
     */
    private boolean pointwise(INDArray x) {
        NFNetsOptions o = options();
        return o.pointwiseGemm() && kernelSize == 1 && stride == 1 && groups == 1
                && (long) inChannels * outChannels * x.size(2) * x.size(3) >= o.pointwiseMinMacs()
                && Nd4j.getEnvironment().helpersAllowed();
    }

    /**
     * Spatial (k > 1) FLOAT convolutions run through oneDNN directly ({@link OneDnnConv}: one primitive for all
     * groups, blocked copies in the step's memory scope) when its natives load, ND4J's platform helpers are on
     * and the options allow it ({@code nfnets.onednnConv}, planes up to {@code nfnets.onednnConvMaxPlane}
     * pixels); otherwise ND4J's conv2d / conv2d_bp (one call per group).
     */
    private boolean oneDnn(INDArray x) {
        NFNetsOptions o = options();
        return o.oneDnnConv() && kernelSize > 1 && x.size(2) * x.size(3) <= o.oneDnnConvMaxPlane()
                && x.dataType() == DataType.FLOAT && OneDnnConv.available() && Nd4j.getEnvironment().helpersAllowed();
    }

    /**
     * Pointwise convolutions on planes of at most {@link NFNetsOptions#pointwiseBatchedMaxPlane()} pixels run as
     * one GEMM over the whole batch, on copies in {@code (channels, N*H*W)} layout, instead of one GEMM per
     * example: per-example GEMMs that thin are inefficient, and the weight gradient is read and written once
     * instead of N times. Measured at batch 8 (docs/BENCHMARKS.md, commit 284b59f of 2026-11-30): 1536 -> 768 at 6 px backward
     * 10.5 -> 4.8 ms, at 12 px 22.9 -> 17.2 ms, 1536 -> 3072 at 4 px 16.1 -> 8.6 ms; at 24 px and more the copies
     * cost more than they save.
     */
    private boolean batched(INDArray x) {
        return x.size(0) > 1 && x.size(2) * x.size(3) <= options().pointwiseBatchedMaxPlane();
    }

    /** A dense NCHW array as a new {@code (C, N*H*W)} matrix (planes regrouped by channel). */
    private static INDArray channelMajor(INDArray a) {
        long n = a.size(0);
        long c = a.size(1);
        long hw = a.size(2) * a.size(3);
        INDArray m = Nd4j.createUninitialized(a.dataType(), c, n * hw);
        m.reshape('c', c, n, hw).assign(a.reshape('c', n, c, hw).permute(1, 0, 2));
        return m;
    }

    /** Writes a {@code (C, N*H*W)} matrix into the dense NCHW array {@code out}. */
    private static void fromChannelMajor(INDArray m, INDArray out) {
        long n = out.size(0);
        long c = out.size(1);
        long hw = out.size(2) * out.size(3);
        out.reshape('c', n, c, hw).assign(m.reshape('c', c, n, hw).permute(1, 0, 2));
    }

    /** One example's {@code (channels, H*W)} plane matrix of an NCHW array (a view when the array is c-order dense). */
    private static INDArray plane(INDArray a, int n) {
        return a.get(NDArrayIndex.point(n), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                .reshape('c', a.size(1), a.size(2) * a.size(3));
    }

    private static INDArray dense(INDArray a) {
        return Shapes.wholeInCOrder(a) ? a : a.dup('c');
    }

    /** {@code y[n, c] += b[c]} on every plane: one float pass ({@link FloatKernels}), else ND4J's broadcast add. */
    private void addBias(INDArray y, INDArray b) {
        if (!FloatKernels.eligible(options(), y, b)) {
            Nd4j.exec(new org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp(y, b, y, 1));
            return;
        }
        int c = (int) y.size(1);
        int plane = (int) (y.size(2) * y.size(3));
        int planes = (int) y.size(0) * c;
        java.nio.FloatBuffer yb = FloatKernels.floats(y);
        java.nio.FloatBuffer bb = FloatKernels.floats(b);
        FloatKernels.parallel(planes, y.length(), (p0, p1) -> {
            float[] row = new float[plane];
            for (int p = p0; p < p1; p++) {
                float v = bb.get(p % c);
                yb.get(p * plane, row, 0, plane);
                for (int i = 0; i < plane; i++) {
                    row[i] += v;
                }
                yb.put(p * plane, row, 0, plane);
            }
        });
    }

    private void convolve(INDArray x, INDArray kernel, INDArray y) {
        INDArray b = bias == null ? null : bias.value();
        if (pointwise(x)) {
            INDArray xd = dense(x);
            INDArray w = dense(kernel).reshape('c', inChannels, outChannels);
            if (batched(xd)) {
                INDArray yc = Nd4j.createUninitialized(y.dataType(), outChannels, y.length() / outChannels);
                Nd4j.gemm(w, channelMajor(xd), yc, true, false, 1.0, 0.0); // Y = W^T X
                fromChannelMajor(yc, y);
            } else {
                for (int n = 0; n < xd.size(0); n++) {
                    Nd4j.gemm(w, plane(xd, n), plane(y, n), true, false, 1.0, 0.0); // y_n = W^T x_n
                }
            }
            if (b != null) {
                addBias(y, b);
            }
            return;
        }
        if (oneDnn(x)) {
            StepScope.nestedRun(() -> {
                OneDnnConv.forward(dense(x), dense(kernel), b == null ? null : dense(b), y, kernelSize, stride, padding, groups);
                return null;
            });
            return;
        }
        if (groups == 1) {
            exec("conv2d", b == null ? new INDArray[] {x, kernel} : new INDArray[] {x, kernel, b}, new INDArray[] {y});
        } else {
            int ig = inChannels / groups;
            int og = outChannels / groups;
            for (int g = 0; g < groups; g++) {
                INDArray xg = x.get(channels(g * ig, ig));
                INDArray kg = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
                        NDArrayIndex.interval(g * og, (g + 1) * og));
                INDArray yg = y.get(channels(g * og, og));
                INDArray[] in = b == null ? new INDArray[] {xg, kg}
                        : new INDArray[] {xg, kg, b.get(NDArrayIndex.interval(g * og, (g + 1) * og))};
                exec("conv2d", in, new INDArray[] {yg});
            }
        }
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return profileBackward(() -> backwardImpl(gradOut));
    }

    private INDArray backwardImpl(INDArray gradOut) {
        INDArray x = requireCached(cachedInput);
        INDArray kernel = cachedKernel != null ? cachedKernel : kernelForBackward();
        Shapes.check(name(), "output gradient", gradOut, outputShape(x.shape()));
        INDArray dx = Nd4j.createUninitialized(x.dataType(), x.shape());
        INDArray dk = Nd4j.createUninitialized(kernel.dataType(), kernel.shape());
        if (pointwise(x)) {
            INDArray xd = dense(x);
            INDArray gd = dense(gradOut);
            INDArray w = dense(kernel).reshape('c', inChannels, outChannels);
            INDArray dw = dk.reshape('c', inChannels, outChannels);
            if (batched(xd)) {
                INDArray gc = channelMajor(gd);
                Nd4j.gemm(channelMajor(xd), gc, dw, false, true, 1.0, 0.0); // dW = X G^T
                INDArray dxc = Nd4j.createUninitialized(dx.dataType(), inChannels, dx.length() / inChannels);
                Nd4j.gemm(w, gc, dxc, false, false, 1.0, 0.0);              // dX = W G
                fromChannelMajor(dxc, dx);
            } else {
                for (int n = 0; n < xd.size(0); n++) {
                    INDArray gn = plane(gd, n);
                    Nd4j.gemm(plane(xd, n), gn, dw, false, true, 1.0, n == 0 ? 0.0 : 1.0); // dW += x_n g_n^T
                    Nd4j.gemm(w, gn, plane(dx, n), false, false, 1.0, 0.0);               // dx_n = W g_n
                }
            }
        } else if (oneDnn(x)) {
            StepScope.nestedRun(() -> {
                OneDnnConv.backward(dense(x), dense(kernel), dense(gradOut), dx, dk, kernelSize, stride, padding, groups,
                        bias != null);
                return null;
            });
        } else if (groups == 1) {
            exec("conv2d_bp", new INDArray[] {x, kernel, gradOut}, new INDArray[] {dx, dk});
        } else {
            int ig = inChannels / groups;
            int og = outChannels / groups;
            for (int g = 0; g < groups; g++) {
                INDArrayIndex cols = NDArrayIndex.interval(g * og, (g + 1) * og);
                INDArray kg = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), cols);
                INDArray dkg = dk.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), cols);
                exec("conv2d_bp", new INDArray[] {x.get(channels(g * ig, ig)), kg, gradOut.get(channels(g * og, og))},
                        new INDArray[] {dx.get(channels(g * ig, ig)), dkg});
            }
        }
        if (bias != null) {
            accumulateBiasGrad(gradOut);
        }
        accumulateKernelGrad(dk);
        return dx;
    }

    /**
     * {@code dbias += sum of gradOut over batch and space}; for dense FLOAT gradients one pass per channel's
     * contiguous planes ({@link FloatKernels}) instead of ND4J's reduction over dimensions (0, 2, 3).
     */
    private void accumulateBiasGrad(INDArray gradOut) {
        if (bias.isFrozen()) {
            return;
        }
        if (!FloatKernels.eligible(options(), gradOut, bias.grad())) {
            bias.accumulateGrad(gradOut.sum(0, 2, 3));
            return;
        }
        int n = (int) gradOut.size(0);
        int c = (int) gradOut.size(1);
        int plane = (int) (gradOut.size(2) * gradOut.size(3));
        java.nio.FloatBuffer g = FloatKernels.floats(gradOut);
        java.nio.FloatBuffer db = FloatKernels.floats(bias.grad());
        FloatKernels.parallel(c, gradOut.length(), (c0, c1) -> {
            float[] p = new float[plane];
            for (int ch = c0; ch < c1; ch++) {
                double sum = 0;
                for (int b = 0; b < n; b++) {
                    g.get((b * c + ch) * plane, p, 0, plane);
                    sum += FloatKernels.sum(p, plane);
                }
                db.put(ch, (float) (db.get(ch) + sum));
            }
        });
    }

    @Override
    public void clearCache() {
        cachedInput = null;
        cachedKernel = null;
    }

    private static INDArrayIndex[] channels(int from, int count) {
        return new INDArrayIndex[] {NDArrayIndex.all(), NDArrayIndex.interval(from, from + count), NDArrayIndex.all(),
                NDArrayIndex.all()};
    }

    private void exec(String op, INDArray[] inputs, INDArray[] outputs) {
        int pad = padding == Padding.SAME ? 1 : 0;
        DynamicCustomOp custom = DynamicCustomOp.builder(op)
                .addInputs(inputs)
                .addOutputs(outputs)
                // kH, kW, sH, sW, pH, pW, dH, dW, isSameMode, dataFormat (0 = NCHW), weightFormat (0 = HWIO)
                .addIntegerArguments(kernelSize, kernelSize, stride, stride, 0, 0, 1, 1, pad, 0, 0)
                .build();
        Nd4j.exec(custom);
    }

    @Override
    protected String profileKey(INDArray x) {
        return getClass().getSimpleName() + " " + kernelSize + "x" + kernelSize + "/" + stride
                + (groups > 1 ? " g" + groups : "") + " " + inChannels + "->" + outChannels + " " + Shapes.str(x.shape());
    }
}
