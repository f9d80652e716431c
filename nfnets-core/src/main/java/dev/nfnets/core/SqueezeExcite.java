package dev.nfnets.core;

import dev.nfnets.layers.AbstractLayer;
import dev.nfnets.layers.Activation;
import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.GlobalAvgPool;
import dev.nfnets.layers.Linear;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Shapes;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.kernels.ChannelGateKernel;
import dev.nfnets.layers.kernels.ChannelGates;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Squeeze-and-excite as the NFNet block applies it: {@code y = x * 2 * sigmoid(W1 relu(W0 mean_hw(x) + b0) + b1)}.
 * The hidden activation is the plain, unscaled ReLU of the reference code (the paper says GELU; the
 * released weights were trained with ReLU). Children are named {@code linear} and {@code linear_1} as in
 * the reference.
 *
 * <p>Kernels: the gating {@code x * gate} and its backward pass (with the pool's backward fused in) are a
 * {@link ChannelGateKernel} ({@link dev.nfnets.layers.kernels.Nd4jChannelGate},
 * {@link dev.nfnets.layers.kernels.FloatChannelGate}, chosen by {@link ChannelGates#choose}); the excitation
 * MLP runs through its sub-layers ({@link Linear}'s matrix products, {@link ActivationLayer}'s
 * {@link dev.nfnets.layers.kernels.ActivationKernel}). The backward pass uses the gate kernel its forward pass recorded.
 */
public class SqueezeExcite extends AbstractLayer {
    private final int channels;
    private final int hidden;
    private final double gateGain;
    private final GlobalAvgPool pool = new GlobalAvgPool("pool");
    private final Linear fc0;
    private final ActivationLayer relu = new ActivationLayer("relu", Activation.RELU);
    private final Linear fc1;
    private final ActivationLayer sigmoid = new ActivationLayer("sigmoid", Activation.SIGMOID);
    private INDArray cachedInput;
    private INDArray cachedGate;
    private ChannelGateKernel cachedKernel;

    public SqueezeExcite(String name, int channels, int hidden, double gateGain) {
        super(name);
        this.channels = channels;
        this.hidden = hidden;
        this.gateGain = gateGain;
        // Haiku's default Linear init (truncated normal, std 1/sqrt(fan_in)) approximated by a plain normal
        this.fc0 = addChild(new Linear("linear", channels, hidden, Math.sqrt(1.0 / channels), true, Tag.SQUEEZE_EXCITE));
        this.fc1 = addChild(new Linear("linear_1", hidden, channels, Math.sqrt(1.0 / hidden), true, Tag.SQUEEZE_EXCITE));
    }

    private boolean inPlaceInference;

    /**
     * Lets inference passes scale the input in place instead of allocating the output, for owners whose input
     * is used by nothing else (NFBlock: the last convolution's output). Returns this layer.
     */
    public SqueezeExcite inPlaceInference(boolean on) {
        this.inPlaceInference = on;
        return this;
    }

    public int hidden() {
        return hidden;
    }

    public long macs() {
        return (long) channels * hidden * 2;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return profileForward(x, () -> forwardImpl(x, mode, inPlaceInference && !mode.isTraining() ? x : null));
    }

    /**
     * {@link #forward(INDArray, Mode)} with the gated output written into {@code out}, an array of {@code x}'s
     * shape (a {@link dev.nfnets.layers.memory.Scratch} view, say), which is returned. Training keeps {@code x} and
     * the gate as always; an owner that lets {@code out} be overwritten gets the output again from
     * {@link #recomputeOutput}.
     */
    public INDArray forward(INDArray x, Mode mode, INDArray out) {
        Shapes.check(name(), "output buffer", out, x.shape());
        return profileForward(x, () -> forwardImpl(x, mode, out));
    }

    /**
     * The output of the last training forward pass again ({@code x * gate} from the input and gate it kept, with
     * the kernel it used: bit for bit the same), in a new array of the current scope.
     */
    public INDArray recomputeOutput() {
        return requireCached(cachedKernel).forward(requireCached(cachedInput), cachedGate, null, options());
    }

    private INDArray forwardImpl(INDArray x, Mode mode, INDArray out) {
        checkInput(x, new long[] {-1, channels, -1, -1});
        INDArray gate = sigmoid.forward(fc1.forward(relu.forward(fc0.forward(pool.forward(x, mode), mode), mode), mode), mode);
        INDArray g4 = gate.reshape(gate.size(0), channels, 1, 1).mul(gateGain);
        ChannelGateKernel k = ChannelGates.choose(x, g4, options());
        cachedInput = mode.isTraining() ? x : null;
        cachedGate = mode.isTraining() ? g4 : null;
        cachedKernel = mode.isTraining() ? k : null;
        return k.forward(x, g4, out, options());
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return profileBackward(() -> backwardImpl(gradOut));
    }

    private INDArray backwardImpl(INDArray gradOut) {
        INDArray x = requireCached(cachedInput);
        Shapes.check(name(), "output gradient", gradOut, x.shape());
        ChannelGateKernel k = requireCached(cachedKernel);
        INDArray dGate = k.gateGradient(x, gradOut, gateGain, options());     // (N, C)
        INDArray dPooled = fc0.backward(relu.backward(fc1.backward(sigmoid.backward(dGate))));
        // the pool's backward (dPooled / (H W) over each plane) is fused into the kernel's input gradient
        return k.inputGradient(gradOut, cachedGate, dPooled, options());
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        Shapes.check(name(), "input", inputShape, new long[] {-1, channels, -1, -1});
        return inputShape.clone();
    }

    @Override
    public void clearCache() {
        super.clearCache();
        pool.clearCache();
        relu.clearCache();
        sigmoid.clearCache();
        cachedInput = null;
        cachedGate = null;
        cachedKernel = null;
    }
}
