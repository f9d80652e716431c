package dev.nfnets.core;

import dev.nfnets.layers.Conv2d;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Padding;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.memory.StepScope;
import dev.nfnets.layers.kernels.WeightStandardizationKernel;
import dev.nfnets.layers.kernels.WeightStandardizations;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scaled weight-standardised convolution (NFNet reference {@code WSConv2D}): per output channel
 * {@code W_hat = (W - mean) * gain / sqrt(max(N * var, eps))}, with the population variance over the
 * {@code N = k*k*in/groups} fan-in entries and {@code eps = 1e-4} as a floor, then
 * {@code conv(x, W_hat) + bias}. Gain starts at 1, bias at 0 and the bias is always present. The backward pass
 * goes through the standardisation, so the raw weight and the gain receive exact gradients.
 *
 * <p>Kernels: the standardisation is a {@link WeightStandardizationKernel} (the formulas and its implementations
 * {@link dev.nfnets.layers.kernels.Nd4jWeightStandardization}, {@link dev.nfnets.layers.kernels.HostWeightStandardization},
 * {@link dev.nfnets.layers.kernels.FloatWeightStandardization}, chosen by {@link WeightStandardizations#choose});
 * the convolution is {@link Conv2d}'s {@link dev.nfnets.layers.kernels.ConvolutionKernel}. The backward pass uses
 * the standardisation its forward pass recorded.
 */
public class WSConv2d extends Conv2d {
    public static final double EPS = 1e-4;

    private final Parameter gain;
    private final double eps;
    /** What the last training forward pass kept (it names its implementation); null outside a training step. */
    private WeightStandardizationKernel.State state;
    /**
     * The weight's gradient buffer, lent while it holds no gradient, with the last training forward pass's
     * standardised kernel in it; null when none was lent.
     */
    private Parameter.StaleGradLoan parked;
    /** The constant factor the input carries ({@link #inputGain}); 1 by default. */
    private double inputGain = 1.0;
    /** The input gain of the last training forward pass, which its backward pass uses. */
    private double keptInputGain = 1.0;

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

    /**
     * Lets the next forward passes compute {@code conv(c * x, W_hat) + b} for input {@code x}, with the constant
     * {@code c} folded into the standardised kernel: standardised with gain {@code gain * c} (in float), which is
     * {@code c * W_hat} because the standardisation is linear in its gain. For an owner whose activation leaves its
     * gain to this convolution ({@link dev.nfnets.layers.ActivationLayer#leaveGainToNext}, option
     * {@code nfnets.foldActivationGains}): the same function up to float rounding, without a pass over the
     * activation. The gain parameter's gradient is {@code c} times the folded gain's. Returns this layer.
     */
    public WSConv2d inputGain(double c) {
        if (!(c > 0) || Double.isInfinite(c)) {
            throw new IllegalArgumentException("layer '" + name() + "': input gain must be positive and finite, got " + c);
        }
        this.inputGain = c;
        return this;
    }

    /** The standardised kernel for the current weights (HWIO), without any {@linkplain #inputGain(double) input gain}. */
    public INDArray standardizedKernel() {
        return standardize(false, 1.0);
    }

    @Override
    protected INDArray effectiveKernel(Mode mode) {
        if (mode.isTraining()) {
            keptInputGain = inputGain;
        }
        return standardize(mode.isTraining(), inputGain);
    }

    /** {@code gain * c} for {@link #foldedGain}, outside the step's memory (reused, not allocated per step). */
    private INDArray foldedGainBuffer;

    /** The standardisation's gain with input gain {@code c} folded in: the gain itself when {@code c} is 1. */
    private INDArray foldedGain(double c) {
        if (c == 1.0) {
            return gain.value();
        }
        INDArray g = gain.value();
        if (foldedGainBuffer == null || foldedGainBuffer.dataType() != g.dataType() || foldedGainBuffer.length() != g.length()) {
            foldedGainBuffer = StepScope.outside(() -> Nd4j.createUninitialized(g.dataType(), g.shape(), 'c'));
        }
        return g.mul(c, foldedGainBuffer);
    }

    /**
     * The standardised kernel times {@code c}; {@code keep}: for a training forward pass, whose state the backward
     * pass reads.
     */
    private INDArray standardize(boolean keep, double c) {
        INDArray g = foldedGain(c);
        WeightStandardizationKernel impl = WeightStandardizations.choose(weight.value(), g, options());
        if (!keep) {
            return impl.forward(weight.value(), g, eps, fanIn(), false, options()).standardized();
        }
        // a training step that does not keep the kernel in step memory (nfnets.wsRecompute) keeps it in the
        // weight's gradient buffer, which holds nothing until the backward pass writes the gradient there (a step
        // after zeroGrad); the backward pass then needs no second standardisation (NFNet-F1 at 128 px: one pass
        // over 530 MB of kernels less per step). Not while gradients accumulate over several backward passes,
        // nor when the implementation's state lives in the step memory that the convolution resets.
        Parameter.StaleGradLoan loan = options().wsRecompute() && impl.stateOutlivesScope() ? weight.lendStaleGrad() : null;
        WeightStandardizationKernel.Forward f = loan == null
                ? impl.forward(weight.value(), g, eps, fanIn(), true, options())
                : impl.forwardInto(weight.value(), g, eps, fanIn(), true, loan.buffer(), options());
        state = f.state();
        parked = loan;
        return f.standardized();
    }

    @Override
    protected boolean keepsKernelForBackward() {
        // recomputing (for large FLOAT kernels one pass from the per-channel numbers the forward pass kept) saves
        // NFNet-F0 286 MB per training step for about 30 ms; the option nfnets.wsRecompute=false keeps the kernels
        // in step memory. Where it can, the forward pass keeps them in the gradient buffers instead (standardize).
        return !options().wsRecompute();
    }

    @Override
    protected INDArray kernelForBackward() {
        if (weight.holds(parked)) {
            return parked.buffer();
        }
        WeightStandardizationKernel.State s = requireState();
        WeightStandardizationKernel.Forward f = s.kernel().recompute(s, weight.value(), foldedGain(keptInputGain), eps,
                fanIn(), options());
        state = f.state();
        return f.standardized();
    }

    @Override
    protected void accumulateKernelGrad(INDArray kernelGrad) {
        WeightStandardizationKernel.State s = requireState();
        // a gradient marked zero is overwritten, not read (Parameter#gradIsZero): one pass over memory fewer
        boolean fresh = weight.gradIsZero();
        INDArray dKernel = weight.isFrozen() ? null : weight.gradForWriting();
        INDArray dGain = s.kernel().backward(s, weight.value(), kernelGrad, dKernel, fresh, options());
        // d(gain * c) / d(gain) = c
        gain.accumulateGrad(keptInputGain == 1.0 ? dGain : dGain.muli(keptInputGain));
    }

    private WeightStandardizationKernel.State requireState() {
        if (state == null) {
            throw new IllegalStateException("layer '" + name() + "': backward() called without a preceding forward(x, TRAIN)");
        }
        return state;
    }

    @Override
    public void clearCache() {
        super.clearCache();
        state = null;
        parked = null;
    }
}
