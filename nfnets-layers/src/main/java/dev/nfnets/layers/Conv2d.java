package dev.nfnets.layers;

import dev.nfnets.layers.kernels.ChannelSumKernel;
import dev.nfnets.layers.kernels.ChannelSums;
import dev.nfnets.layers.kernels.ConvGeometry;
import dev.nfnets.layers.kernels.ConvolutionKernel;
import dev.nfnets.layers.kernels.Convolutions;
import dev.nfnets.layers.memory.StepScope;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * 2-D convolution on NCHW activations with an HWIO kernel {@code (k, k, inChannels/groups, outChannels)}
 * (the layout of the NFNet reference checkpoints), optional bias, stride, TF-style SAME or VALID padding
 * and grouped channels.
 *
 * <p>The math is {@code y = conv(x, W') + b} with {@code W'} the {@link #effectiveKernel} (the stored weight, or
 * what a subclass makes of it: weight standardisation plugs in there and routes the kernel gradient through
 * {@link #accumulateKernelGrad}); the backward pass gives {@code dx}, {@code dW'} and {@code db = sum(dy)}.
 * Kernels it calls ({@link dev.nfnets.layers.kernels.ConvolutionKernel}, chosen per forward pass by
 * {@link Convolutions#choose} from the model's options; the backward pass uses the forward's choice):
 * {@link dev.nfnets.layers.kernels.Nd4jConvolution} (the reference: ND4J's conv2d per group),
 * {@link dev.nfnets.layers.kernels.GemmPointwiseConvolution} (1x1 as GEMMs),
 * {@link dev.nfnets.layers.kernels.OneDnnConvolution} (spatial FLOAT through oneDNN). The bias gradient is a
 * {@link ChannelSumKernel} ({@link dev.nfnets.layers.kernels.Nd4jChannelSum},
 * {@link dev.nfnets.layers.kernels.FloatChannelSum}, chosen by {@link ChannelSums#choose}).
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

    private final ConvGeometry geometry;
    private final KeptInput keptInput;
    private INDArray cachedKernel;
    /** The implementation the last training forward pass used; its backward pass uses the same. */
    private ConvolutionKernel cachedImpl;
    /** Whether the owner passes input / takes output in {@link ChannelBlocks}' layout ({@link #channelBlocks}). */
    private boolean blockedInput;
    private boolean blockedOutput;
    /** Whether the last training forward pass gave its output blocked (its output gradient must come so too). */
    private boolean cachedBlockedOutput;

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
        this.keptInput = new KeptInput(name);
        this.geometry = new ConvGeometry(inChannels, outChannels, kernelSize, stride, padding, groups, withBias);
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

    /**
     * Lets the owner pass this layer's input ({@code input}) and take its output ({@code output}) in
     * {@link ChannelBlocks}' 16-channel blocked layout, rank-5 arrays: for activations that go from one convolution
     * to the next through element-wise layers only. The backward pass takes and gives gradients in the layout its
     * forward pass took and gave. oneDNN's convolutions read and write that layout directly; the other kernels get
     * NCHW copies, so the result is the same either way. Off by default; returns this layer.
     */
    public Conv2d channelBlocks(boolean input, boolean output) {
        if ((input && !ChannelBlocks.fits(inChannels)) || (output && !ChannelBlocks.fits(outChannels))) {
            throw new IllegalArgumentException("layer '" + name() + "': blocked activations need channel counts that are "
                    + "multiples of " + ChannelBlocks.BLOCK + " (in=" + inChannels + ", out=" + outChannels + ")");
        }
        this.blockedInput = input;
        this.blockedOutput = output;
        return this;
    }

    /** Whether the input is taken in the blocked layout ({@link #channelBlocks}). */
    public boolean takesBlockedInput() {
        return blockedInput;
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
        boolean xBlocked = ChannelBlocks.is(x);
        if (xBlocked && !blockedInput) {
            throw new IllegalArgumentException("layer '" + name() + "': input " + Shapes.str(x.shape())
                    + " is in the 16-channel blocked layout, which this layer was not set to take (channelBlocks)");
        }
        long[] xs = ChannelBlocks.logicalShape(x);
        Shapes.check(name(), "input", xs, new long[] {-1, inChannels, -1, -1});
        if (x.dataType() != weight.dataType()) {
            throw new IllegalArgumentException("layer '" + name() + "': input is " + x.dataType() + " but weights are "
                    + weight.dataType());
        }
        if (padding == Padding.VALID && (xs[2] < kernelSize || xs[3] < kernelSize)) {
            throw new IllegalArgumentException("layer '" + name() + "': input " + Shapes.str(xs)
                    + " is smaller than the " + kernelSize + "x" + kernelSize + " kernel with VALID padding");
        }
        ConvolutionKernel impl = Convolutions.choose(geometry, x, options());
        // oneDNN reads and writes the blocked layout itself; the other kernels get NCHW
        boolean layoutsAsGiven = impl == Convolutions.ONEDNN;
        INDArray in = layoutsAsGiven ? x : ChannelBlocks.plain(x);
        // every element is written by the convolution: no zero fill
        INDArray y = ChannelBlocks.uninitialized(x.dataType(), outputShape(xs), blockedOutput && layoutsAsGiven);
        INDArray b = bias == null ? null : bias.value();
        if (!mode.isTraining()) {
            // inference runs each block in its own child scope already (NFNet), reset after the block
            impl.forward(geometry, in, effectiveKernel(mode), b, y, options());
            cachedKernel = null;
        } else if (keepsKernelForBackward()) {
            INDArray kernel = effectiveKernel(mode);
            impl.forward(geometry, in, kernel, b, y, options());
            cachedKernel = kernel;
        } else {
            // the kernel is not needed after this call: build it in a child scope that is reset on return, so
            // it does not stay in the step's workspace until the end of the step
            StepScope.nestedRun(() -> {
                impl.forward(geometry, in, effectiveKernel(mode), b, y, options());
                return null;
            });
            cachedKernel = null;
        }
        keptInput.keep(mode.isTraining() ? x : null);
        cachedImpl = mode.isTraining() ? impl : null;
        cachedBlockedOutput = mode.isTraining() && blockedOutput;
        return blockedOutput && !layoutsAsGiven ? ChannelBlocks.toBlocked(y) : y;
    }

    /**
     * Drops the input the last training forward pass kept, for an owner that reuses the input's memory before the
     * backward pass (a {@link dev.nfnets.layers.memory.Scratch} view): that backward pass then takes the input
     * again, {@link #backward(INDArray, INDArray)}.
     */
    public void releaseInput() {
        keptInput.release();
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return profileBackward(() -> backwardImpl(gradOut, keptInput.get()));
    }

    /** The backward pass for a forward pass whose input was {@linkplain #releaseInput released}: {@code input} is it again. */
    public INDArray backward(INDArray gradOut, INDArray input) {
        return profileBackward(() -> backwardImpl(gradOut, keptInput.given(input)));
    }

    private INDArray backwardImpl(INDArray gradOut, INDArray x) {
        ConvolutionKernel impl = requireCached(cachedImpl);
        INDArray kernel = cachedKernel != null ? cachedKernel : kernelForBackward();
        if (ChannelBlocks.is(gradOut) != cachedBlockedOutput) {
            throw new IllegalArgumentException("layer '" + name() + "': output gradient " + Shapes.str(gradOut.shape())
                    + (cachedBlockedOutput ? " must be in the 16-channel blocked layout its forward pass gave"
                    : " must be NCHW, as its forward pass's output was"));
        }
        long[] xs = ChannelBlocks.logicalShape(x);
        Shapes.check(name(), "output gradient", ChannelBlocks.logicalShape(gradOut), outputShape(xs));
        boolean layoutsAsGiven = impl == Convolutions.ONEDNN;
        boolean xBlocked = ChannelBlocks.is(x);
        INDArray in = layoutsAsGiven ? x : ChannelBlocks.plain(x);
        INDArray dy = layoutsAsGiven ? gradOut : ChannelBlocks.plain(gradOut);
        INDArray dx = ChannelBlocks.uninitialized(x.dataType(), xs, xBlocked && layoutsAsGiven);
        INDArray dk = Nd4j.createUninitialized(kernel.dataType(), kernel.shape());
        impl.backward(geometry, in, kernel, dy, dx, dk, options());
        if (bias != null) {
            accumulateBiasGrad(gradOut);
        }
        accumulateKernelGrad(dk);
        return xBlocked && !layoutsAsGiven ? ChannelBlocks.toBlocked(dx) : dx;
    }

    /** {@code dbias += sum of gradOut over batch and space}, through a {@link ChannelSumKernel}. */
    private void accumulateBiasGrad(INDArray gradOut) {
        if (bias.isFrozen()) {
            return;
        }
        INDArray db = bias.grad();
        ChannelSums.choose(gradOut, db, options()).accumulate(gradOut, db, options());
    }

    @Override
    public void clearCache() {
        keptInput.clear();
        cachedKernel = null;
        cachedImpl = null;
        cachedBlockedOutput = false;
    }

    @Override
    protected String profileKey(INDArray x) {
        return getClass().getSimpleName() + " " + kernelSize + "x" + kernelSize + "/" + stride
                + (groups > 1 ? " g" + groups : "") + " " + inChannels + "->" + outChannels + " " + Shapes.str(ChannelBlocks.logicalShape(x));
    }
}
