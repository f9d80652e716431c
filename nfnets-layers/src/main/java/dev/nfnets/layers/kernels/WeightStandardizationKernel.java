package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Shapes;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to compute scaled weight standardisation (the NFNet reference {@code WSConv2D}) of a convolution kernel
 * seen as a c-order {@code (N, out)} matrix, {@code N} the fan-in: per output channel
 * {@code W_hat = (W - mean) * gain / sqrt(max(N * var, eps))}, with the population variance, computed in the
 * reference's order {@code W * scale - mean * scale}.
 *
 * <p>The backward pass takes {@code G = dL/dW_hat} and gives
 * {@code dW = s (G - mean(G)) - gain r^(-3/2) sum(G d) d} (the last term only where {@code N var > eps}) and
 * {@code dgain = sum(G d) / sqrt(r)}, with {@code d = W - mean}, {@code r = max(N var, eps)} and
 * {@code s = gain / sqrt(r)}.
 *
 * <p>Implementations ({@link WeightStandardizations#choose} picks one per forward pass from the options):
 * <ul>
 *   <li>{@link Nd4jWeightStandardization}: ND4J ops; the reference implementation.</li>
 *   <li>{@link HostWeightStandardization}: small kernels ({@code nfnets.hostMaxElements}) in one host loop in double
 *       precision, with the reference's float32 rounding steps reproduced for FLOAT kernels.</li>
 *   <li>{@link FloatWeightStandardization}: large dense FLOAT kernels in passes over native memory split over the
 *       cores ({@code nfnets.floatKernels}); keeps only per-channel numbers for the backward pass.</li>
 * </ul>
 */
public interface WeightStandardizationKernel {
    /** What a forward pass kept for its backward pass; only the implementation that made it can read it. */
    interface State {
        /** The implementation whose forward pass made this state, which its backward pass must use. */
        WeightStandardizationKernel kernel();
    }

    /** The standardised kernel (same shape as the raw one) and, when asked for, the state for the backward pass. */
    record Forward(INDArray standardized, State state) {
    }

    String name();

    /**
     * Whether this implementation's {@link State} holds only Java values (no arrays of a step scope), so that it
     * stays valid after the scope its forward pass ran in is reset.
     */
    default boolean stateOutlivesScope() {
        return false;
    }

    /**
     * Standardises {@code kernel} ({@code N * out} elements in c order, any shape) with the per-channel
     * {@code gain} ({@code out} elements); keeps a {@link State} when {@code keep}, else {@code state} is null.
     */
    Forward forward(INDArray kernel, INDArray gain, double eps, long fanIn, boolean keep, NFNetsOptions o);

    /**
     * {@link #forward} with the standardised kernel written into {@code out}, a whole c-order array of the kernel's
     * shape and type, which the result holds. By default computed by {@link #forward} and copied; implementations
     * for large kernels write it directly.
     */
    default Forward forwardInto(INDArray kernel, INDArray gain, double eps, long fanIn, boolean keep, INDArray out,
                                NFNetsOptions o) {
        Forward f = forward(kernel, gain, eps, fanIn, keep, o);
        out.assign(f.standardized());
        return new Forward(out, f.state());
    }

    /**
     * The standardised kernel again, for a backward pass that did not keep it, from a state this implementation's
     * forward pass made for the same raw kernel; by default the forward pass again (its new state replaces the old).
     */
    default Forward recompute(State state, INDArray kernel, INDArray gain, double eps, long fanIn, NFNetsOptions o) {
        return forward(kernel, gain, eps, fanIn, true, o);
    }

    /**
     * The backward pass: returns {@code dL/dgain} (a new array shaped like the gain) and adds {@code dL/dW} into
     * {@code dKernel} (shaped like the raw kernel; skipped when null, e.g. a frozen weight). When
     * {@code dKernelIsZero} the buffer's contents are stale and are overwritten instead of read.
     */
    INDArray backward(State state, INDArray kernel, INDArray dStandardized, INDArray dKernel, boolean dKernelIsZero,
                      NFNetsOptions o);

    /** Checks that {@code kernel} has {@code fanIn * gain.length()} elements and a positive fan-in. */
    static void checkShapes(String who, INDArray kernel, INDArray gain, long fanIn) {
        if (fanIn <= 0 || gain.length() <= 0 || kernel.length() != fanIn * gain.length()) {
            throw new IllegalArgumentException(who + ": kernel " + Shapes.str(kernel.shape()) + " does not hold fan-in "
                    + fanIn + " x " + gain.length() + " output channels (gain " + Shapes.str(gain.shape()) + ")");
        }
    }

    /** The state's implementation must be {@code expected}: a state from another implementation cannot be read. */
    static <S extends State> S stateOf(WeightStandardizationKernel expected, State state, Class<S> type) {
        if (state == null) {
            throw new IllegalStateException(expected.name() + " weight standardisation: backward pass without a kept "
                    + "forward state (forward with keep=true first)");
        }
        if (!type.isInstance(state)) {
            throw new IllegalArgumentException(expected.name() + " weight standardisation: state was made by "
                    + state.kernel().name());
        }
        return type.cast(state);
    }
}
