package dev.nfnets.layers;

import dev.nfnets.layers.kernels.ActivationKernel;
import dev.nfnets.layers.kernels.Activations;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code y = gain * f(x)} element-wise; backward {@code dx = gain * f'(x) * dy} (or without the gain, for an owner that
 * applies it downstream: {@link #leaveGainToNext}). Kernels it calls
 * ({@link ActivationKernel}, chosen per forward pass by {@link Activations#choose} from the model's options; the
 * backward pass uses the forward's choice): {@link dev.nfnets.layers.kernels.Nd4jActivation} (the reference),
 * {@link dev.nfnets.layers.kernels.FloatGelu}, {@link dev.nfnets.layers.kernels.OneDnnGelu}. With {@code gain} the NFNet gamma of {@code f}, this is the
 * reference's variance-preserving activation ({@code dev.nfnets.core.Gammas} has the table).
 */
public class ActivationLayer extends AbstractLayer {
    private final Activation fn;
    private final double gain;
    /**
     * Whether training keeps the activation's gate (GELU's sigmoid) from the forward pass for the backward pass:
     * one more activation-sized array per layer in training, for a backward pass without recomputing the
     * sigmoid. Null: as the options say ({@code nfnets.activationGates}: {@code keep} and {@code auto} keep it,
     * {@code recompute} does not); {@code NFNet} sets it per model from
     * {@link NFNetsOptions#keepActivationGates(long)}: kept for small models (dispatch-bound: {@code nfnet-mnist}
     * 8% faster per step), recomputed for large ones (memory-bound: F0 at 128 px the same speed with 250 MiB less
     * peak memory; docs/BENCHMARKS.md). Recomputing the gate costs one vectorised pass.
     */
    private Boolean keepGate;

    /** Whether the owner applies {@link #gain} downstream instead ({@link #leaveGainToNext}). */
    private boolean gainLeft;
    private INDArray cachedInput;
    private INDArray cachedGate;
    /** The gain the last training forward pass applied; its backward pass and recomputation apply the same. */
    private double cachedGain;
    /** The implementation the last training forward pass used; its backward pass uses the same. */
    private ActivationKernel cachedImpl;

    public ActivationLayer(String name, Activation fn) {
        this(name, fn, 1.0);
    }

    public ActivationLayer(String name, Activation fn, double gain) {
        super(name);
        this.fn = fn;
        this.gain = gain;
    }

    /** Whether training keeps the gate for the backward pass (overrides the options); returns this layer. */
    public ActivationLayer keepGate(boolean keep) {
        this.keepGate = keep;
        return this;
    }

    public boolean keepsGate() {
        return keepGate != null ? keepGate : options().activationGates() != NFNetsOptions.Gates.RECOMPUTE;
    }

    private boolean inPlaceInference;

    /**
     * Lets inference passes ({@code Mode.EVAL}) overwrite the input with the output instead of allocating one
     * (dense FLOAT inputs): for owners whose input array is used by nothing else, such as an activation right
     * after a convolution. Training never does (the backward pass needs the input). Returns this layer.
     */
    public ActivationLayer inPlaceInference(boolean on) {
        this.inPlaceInference = on;
        return this;
    }

    public boolean isInPlaceInference() {
        return inPlaceInference;
    }

    /**
     * Lets the next forward passes compute {@code f(x)} without the gain, for an owner that applies {@link #gain()}
     * in the layers this output feeds, where it costs nothing: a weight-standardised convolution folds it into its
     * kernel ({@code dev.nfnets.core.WSConv2d#inputGain}). The backward pass then gives {@code f'(x) * dy}, for an
     * output gradient {@code dy} taken with respect to {@code f(x)}. Returns this layer.
     */
    public ActivationLayer leaveGainToNext(boolean leave) {
        this.gainLeft = leave;
        return this;
    }

    /** The gain the next forward pass applies: 1 when it is left to the next layers, else {@link #gain()}. */
    public double appliedGain() {
        return gainLeft ? 1.0 : gain;
    }

    public Activation function() {
        return fn;
    }

    public double gain() {
        return gain;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return profileForward(x, () -> forwardImpl(x, mode, inPlaceInference && !mode.isTraining() ? x : null));
    }

    /**
     * {@link #forward(INDArray, Mode)} with the output written into {@code out}, a whole c-order array of
     * {@code x}'s shape and type (a {@link dev.nfnets.layers.memory.Scratch} view, say), which is returned. In
     * training the layer keeps only its input, as always; an owner that lets {@code out} be overwritten before the
     * backward pass gets the output again from {@link #recomputeOutput}.
     */
    public INDArray forward(INDArray x, Mode mode, INDArray out) {
        Shapes.check(name(), "output buffer", out, x.shape());
        if (out.dataType() != x.dataType() || !Shapes.wholeInCOrder(out)) {
            throw new IllegalArgumentException("layer '" + name() + "': the output buffer must be a whole c-order "
                    + x.dataType() + " array, got " + out.dataType() + (Shapes.wholeInCOrder(out) ? "" : " (a view)"));
        }
        return profileForward(x, () -> forwardImpl(x, mode, out));
    }

    private INDArray forwardImpl(INDArray x, Mode mode, INDArray out) {
        ActivationKernel impl = Activations.choose(fn, x, options());
        double g = appliedGain();
        ActivationKernel.Forward f = impl.forward(fn, x, g, mode.isTraining() && keepsGate(), out, options());
        cachedGain = g;
        cachedInput = mode.isTraining() ? x : null;
        cachedGate = mode.isTraining() ? f.gate() : null;
        cachedImpl = mode.isTraining() ? impl : null;
        return f.y();
    }

    /**
     * The output of the last training forward pass again, computed from the input it kept with the kernel it used
     * (so bit for bit the same), in a new array of the current scope: for owners whose forward output went into
     * memory that was reused before the backward pass ({@link #forward(INDArray, Mode, INDArray)}).
     */
    public INDArray recomputeOutput() {
        INDArray x = requireCached(cachedInput);
        ActivationKernel impl = requireCached(cachedImpl);
        return impl.forward(fn, x, cachedGain, false, null, options()).y();
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        return profileBackward(() -> backwardImpl(gradOut));
    }

    private INDArray backwardImpl(INDArray gradOut) {
        INDArray x = requireCached(cachedInput);
        ActivationKernel impl = requireCached(cachedImpl);
        Shapes.check(name(), "output gradient", gradOut, x.shape());
        return impl.backward(fn, x, cachedGate, gradOut, cachedGain, options());
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public void clearCache() {
        cachedInput = null;
        cachedGate = null;
        cachedImpl = null;
    }

    @Override
    protected String profileKey(INDArray x) {
        return "ActivationLayer " + fn.name().toLowerCase(java.util.Locale.ROOT) + " " + Shapes.str(ChannelBlocks.logicalShape(x));
    }
}
