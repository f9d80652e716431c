package dev.nfnets.core;

import dev.nfnets.layers.AbstractLayer;
import dev.nfnets.layers.Activation;
import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.AvgPool2d;
import dev.nfnets.layers.ChannelBlocks;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Padding;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Shapes;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.kernels.Convolutions;
import dev.nfnets.layers.kernels.DoubleDotKernel;
import dev.nfnets.layers.memory.Scratch;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The normalizer-free bottleneck block of NFNet (reference {@code NFBlock}):
 * <pre>
 *   h  = act(x) * beta                                       (beta folded into act0's gain)
 *   (with nfnets.foldActivationGains each activation's gain goes into the convolutions it feeds instead)
 *   sc = conv_shortcut(avgpool2x2(h)) if stride > 1; conv_shortcut(h) if in != out; x otherwise
 *   r  = conv2(act(conv1b(act(conv1(act(conv0(h)))))))     conv1 (strided) and conv1b are grouped 3x3
 *   r  = stochastic_depth(2 * se(r) * r)
 *   y  = sc + alpha * skip_gain * r                          skip_gain starts at 0 (SkipInit)
 * </pre>
 * Every sub-layer (convolutions, activations, pool, squeeze-excite, stochastic depth) is a registered child, so
 * options, cache clearing and parameter names follow the tree.
 *
 * <p>Kernels: none of its own; its math runs in its children ({@link WSConv2d}: weight standardisation and
 * convolution kernels; {@link dev.nfnets.layers.ActivationLayer}: activation kernels; {@link SqueezeExcite}: the
 * channel-gate kernel). The residual sum {@code sc + alpha * skip_gain * r} and its gradients are ND4J ops here, but for
 * the skip gain's gradient, a {@link DoubleDotKernel}.
 */
public class NFBlock extends AbstractLayer {
    private final BlockSpec spec;
    private final double alpha;
    private final ActivationLayer act0;
    private final ActivationLayer act1;
    private final ActivationLayer act2;
    private final ActivationLayer act3;
    private final WSConv2d conv0;
    private final WSConv2d conv1;
    private final WSConv2d conv1b;
    private final WSConv2d conv2;
    private final WSConv2d convShortcut;
    private final AvgPool2d pool;
    private final SqueezeExcite se;
    private final StochasticDepth stochasticDepth;
    private final Parameter skipGain;
    private INDArray cachedResidual;
    /**
     * Where a training forward pass writes the outputs of act0-act3 (each only feeds convolutions, which then
     * release them); null: each is a new array kept for the whole step. Set by the owner for one step.
     */
    private Scratch scratch;
    /** Whether the last training forward pass wrote its activations into {@link #scratch}. */
    private boolean recomputing;

    /** Everything that defines one block; derived by {@link NFNetConfig#blocks()}. */
    public record BlockSpec(int index, int stage, int indexInStage, int in, int out, int mid, int groups, int stride,
                            double beta, double stochDepthRate, int seHidden) {
        public boolean projection() {
            return stride > 1 || in != out;
        }
    }

    public NFBlock(String name, BlockSpec spec, double alpha, Activation activation, double gamma) {
        super(name);
        this.spec = spec;
        this.alpha = alpha;
        // h = act(x) * beta as one activation with gain gamma * beta: no separate pass over the block input
        // (forward and backward); the product is rounded once to float instead of two float multiplies
        this.act0 = addChild(new ActivationLayer("act0", activation, gamma * spec.beta()));
        // act1-3 follow a convolution whose output nothing else uses: inference overwrites it (act0's input may be
        // the shortcut, so act0 allocates)
        this.act1 = addChild(new ActivationLayer("act1", activation, gamma).inPlaceInference(true));
        this.act2 = addChild(new ActivationLayer("act2", activation, gamma).inPlaceInference(true));
        this.act3 = addChild(new ActivationLayer("act3", activation, gamma).inPlaceInference(true));
        this.conv0 = addChild(new WSConv2d("conv0", spec.in(), spec.mid(), 1, 1, 1));
        this.conv1 = addChild(new WSConv2d("conv1", spec.mid(), spec.mid(), 3, spec.stride(), spec.groups()));
        this.conv1b = addChild(new WSConv2d("conv1b", spec.mid(), spec.mid(), 3, 1, spec.groups()));
        this.conv2 = addChild(new WSConv2d("conv2", spec.mid(), spec.out(), 1, 1, 1));
        this.convShortcut = spec.projection() ? addChild(new WSConv2d("conv_shortcut", spec.in(), spec.out(), 1, 1, 1)) : null;
        this.pool = spec.stride() > 1 ? addChild(new AvgPool2d("pool", 2, 2, Padding.SAME)) : null;
        this.se = spec.seHidden() > 0 ? addChild(new SqueezeExcite("squeeze_excite", spec.out(), spec.seHidden(), 2.0).inPlaceInference(true)) : null;
        this.stochasticDepth = spec.stochDepthRate() > 0 ? addChild(new StochasticDepth("stochastic_depth", spec.stochDepthRate())) : null;
        this.skipGain = addParameter(new Parameter("skip_gain", Nd4j.zeros(DataType.FLOAT, 1), Tag.SKIP_GAIN));
    }

    public BlockSpec spec() {
        return spec;
    }

    public Parameter skipGain() {
        return skipGain;
    }

    /** Sets {@link ActivationLayer#keepGate} on the block's four activations. */
    public void keepActivationGates(boolean keep) {
        act0.keepGate(keep);
        act1.keepGate(keep);
        act2.keepGate(keep);
        act3.keepGate(keep);
    }

    /** Whether the block's activations keep their gates in training. */
    public boolean keepsActivationGates() {
        return act0.keepsGate();
    }

    /** The stochastic-depth layer, or null when this block's rate is 0. */
    public StochasticDepth stochasticDepth() {
        return stochasticDepth;
    }

    /**
     * Lets the next training forward passes write the block's activation outputs into {@code scratch} (shared with
     * other blocks, overwritten before the backward pass, which recomputes them from the activations' inputs:
     * bit for bit the same) instead of keeping each for the whole step; null turns this off. It needs
     * {@link #scratchElements} elements; the option {@code nfnets.recomputeActivations=false} ignores it. Cleared
     * by {@link #clearCache}.
     */
    public void useScratch(Scratch scratch) {
        this.scratch = scratch;
    }

    /**
     * Elements of the largest array a training forward pass with input shape {@code in} writes into the scratch
     * buffer (activation outputs, the gated residual).
     */
    public long scratchElements(long[] in) {
        long[] out = outputShape(in);
        long inPlane = in[0] * in[2] * in[3];
        long outPlane = out[0] * out[2] * out[3];
        return Math.max(inPlane * Math.max(spec.in(), spec.mid()), outPlane * Math.max(spec.mid(), spec.out()));
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        checkInput(x, new long[] {-1, spec.in(), -1, -1});
        recomputing = mode.isTraining() && scratch != null && options().recomputeActivations()
                && scratch.dataType() == x.dataType() && scratch.capacity() >= scratchElements(x.shape());
        foldActivationGains(options().foldActivationGains());
        INDArray h = activate(act0, x, mode); // gain gamma * beta, or 1 with it folded into conv0 and the shortcut
        INDArray shortcut;
        if (pool != null) {
            shortcut = convShortcut.forward(pool.forward(h, mode), mode);
            release(pool);
        } else if (convShortcut != null) {
            shortcut = convShortcut.forward(h, mode);
            release(convShortcut);
        } else {
            shortcut = x;
        }
        // the activations between conv0 and conv2 stay in oneDNN's blocked layout where all four convolutions run
        // on oneDNN (nfnets.channelBlocks): no reorders between them, the same bits
        boolean blocked = options().channelBlocks() && ChannelBlocks.fits(spec.mid()) && Convolutions.allOnOneDnn(h, options());
        conv0.channelBlocks(false, blocked);
        conv1.channelBlocks(blocked, blocked);
        conv1b.channelBlocks(blocked, blocked);
        conv2.channelBlocks(blocked, false);
        INDArray r = conv0.forward(h, mode);
        release(conv0);
        r = convolve(conv1, activate(act1, r, mode), mode);
        r = convolve(conv1b, activate(act2, r, mode), mode);
        r = convolve(conv2, activate(act3, r, mode), mode);
        if (se != null) {
            // when recomputing, the gated residual goes into the scratch buffer too: it only feeds the sum below
            // (the skip gain's gradient recomputes it from squeeze-excite's kept input and gate)
            r = recomputing ? se.forward(r, mode, scratch.view(r.shape())) : se.forward(r, mode);
        }
        if (stochasticDepth != null) {
            r = stochasticDepth.forwardInPlace(r, mode); // r is this block's own array
        }
        cachedResidual = mode.isTraining() && !(recomputing && se != null) ? r : null;
        double scale = alpha * skipGain.value().getDouble(0);
        // r is this block's own array: inference scales it in place; training keeps it (or, in the scratch buffer,
        // recomputes it) for the skip gain's gradient
        return (mode.isTraining() ? r.mul(scale) : r.muli(scale)).addi(shortcut);
    }

    /**
     * Whether each activation leaves its gain to the convolutions it feeds (they fold it into their standardised
     * kernels, {@link WSConv2d#inputGain}), option {@code nfnets.foldActivationGains}: act0's output h feeds conv0
     * and the shortcut (through the average pool, which is linear), act1-3 each feed one convolution.
     */
    private void foldActivationGains(boolean fold) {
        fold(act0, fold, conv0, convShortcut);
        fold(act1, fold, conv1);
        fold(act2, fold, conv1b);
        fold(act3, fold, conv2);
    }

    /** Lets {@code act} leave its gain to the convolutions {@code next} (null ones skipped) when {@code fold}. */
    static void fold(ActivationLayer act, boolean fold, WSConv2d... next) {
        act.leaveGainToNext(fold);
        for (WSConv2d c : next) {
            if (c != null) {
                c.inputGain(fold ? act.gain() : 1.0);
            }
        }
    }

    /** {@code act(x)}, into the scratch buffer when recomputing. */
    private INDArray activate(ActivationLayer act, INDArray x, Mode mode) {
        return recomputing ? act.forward(x, mode, scratch.view(x.shape())) : act.forward(x, mode);
    }

    /** {@code conv(a)} for an activation output {@code a}, which the convolution does not keep when recomputing. */
    private INDArray convolve(WSConv2d conv, INDArray a, Mode mode) {
        INDArray y = conv.forward(a, mode);
        release(conv);
        return y;
    }

    private void release(WSConv2d conv) {
        if (recomputing) {
            conv.releaseInput();
        }
    }

    private void release(AvgPool2d p) {
        if (recomputing) {
            p.releaseInput();
        }
    }

    /** {@code conv}'s backward pass, given its input {@code act}'s output again when it was released. */
    private INDArray convBackward(WSConv2d conv, ActivationLayer act, INDArray gradOut) {
        return recomputing ? conv.backward(gradOut, act.recomputeOutput()) : conv.backward(gradOut);
    }

    /** The residual the forward pass wrote into the scratch buffer, again: squeeze-excite's output, masked. */
    private INDArray recomputeResidual() {
        INDArray r = se.recomputeOutput();
        return stochasticDepth != null ? stochasticDepth.reapplyInPlace(r) : r;
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        INDArray r = recomputing && se != null ? recomputeResidual() : requireCached(cachedResidual);
        Shapes.check(name(), "output gradient", gradOut, r.shape());
        double sg = skipGain.value().getDouble(0);
        // a sum over the whole residual with heavy cancellation: accumulate it in double precision
        double dSkip = DoubleDotKernel.choose(gradOut, r, options()).dot(gradOut, r, options()) * alpha;
        skipGain.accumulateGrad(Nd4j.scalar(gradOut.dataType(), dSkip).reshape(1));
        INDArray dr = gradOut.mul(alpha * sg);
        if (stochasticDepth != null) {
            dr = stochasticDepth.backward(dr);
        }
        if (se != null) {
            dr = se.backward(dr);
        }
        dr = act3.backward(convBackward(conv2, act3, dr));
        dr = act2.backward(convBackward(conv1b, act2, dr));
        dr = act1.backward(convBackward(conv1, act1, dr));
        // h = act0(x) feeds conv0 and the shortcut: recomputed once for both
        INDArray h = recomputing ? act0.recomputeOutput() : null;
        INDArray dh = recomputing ? conv0.backward(dr, h) : conv0.backward(dr);
        if (pool != null) {
            INDArray dp = convShortcut.backward(gradOut);
            dh.addi(recomputing ? pool.backward(dp, h) : pool.backward(dp));
        } else if (convShortcut != null) {
            dh.addi(recomputing ? convShortcut.backward(gradOut, h) : convShortcut.backward(gradOut));
        }
        INDArray dx = act0.backward(dh); // includes beta (act0's gain)
        if (convShortcut == null) {
            dx.addi(gradOut);
        }
        return dx;
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        Shapes.check(name(), "input", inputShape, new long[] {-1, spec.in(), -1, -1});
        return new long[] {inputShape[0], spec.out(), Padding.SAME.outputSize(inputShape[2], 3, spec.stride()),
                Padding.SAME.outputSize(inputShape[3], 3, spec.stride())};
    }

    /** Multiply-accumulates per example at input size h x w (reference count_flops convention). */
    public long macs(long h, long w) {
        long oh = Padding.SAME.outputSize(h, 3, spec.stride());
        long ow = Padding.SAME.outputSize(w, 3, spec.stride());
        long m = conv0.macs(h, w) + conv1.macs(h, w) + conv1b.macs(oh, ow) + conv2.macs(oh, ow);
        if (convShortcut != null) {
            m += convShortcut.macs(oh, ow);
        }
        if (se != null) {
            m += se.macs();
        }
        return m;
    }

    @Override
    public void clearCache() {
        super.clearCache(); // every sub-layer is a registered child
        cachedResidual = null;
        scratch = null;
        recomputing = false;
    }
}
