package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to compute the channel gating of squeeze-excite, {@code y = x * gate} with {@code x} of shape
 * {@code (N, C, H, W)} and one gate value per plane ({@code (N, C, 1, 1)}), and its backward pass, into which the
 * backward pass of the global average pool that computed the gate's input from the same {@code x} is fused:
 * {@code dGate = scale * sum_hw(dy * x)} and {@code dx = dy * gate + dPooled / (H W)} (broadcast over each plane).
 *
 * <p>Implementations ({@link ChannelGates#choose} picks one per forward pass from the options):
 * <ul>
 *   <li>{@link Nd4jChannelGate}: ND4J ops; the reference implementation.</li>
 *   <li>{@link FloatChannelGate}: dense FLOAT arrays, the backward pass in two passes over the activations (the
 *       gate's gradient per plane, then {@code dx}) instead of five, without activation-sized temporaries
 *       ({@code nfnets.floatKernels}).</li>
 * </ul>
 * The forward pass is ND4J's broadcast multiply in both (already one pass).
 */
public interface ChannelGateKernel {
    String name();

    /**
     * {@code x * gate}: into a new array when {@code out} is null, else into {@code out} (an array of {@code x}'s
     * shape: {@code x} itself in inference, or a {@link dev.nfnets.layers.memory.Scratch} view), which is returned.
     */
    default INDArray forward(INDArray x, INDArray gate, INDArray out, NFNetsOptions o) {
        return out == null ? x.mul(gate) : out == x ? x.muli(gate) : x.mul(gate, out);
    }

    /** {@code scale * sum_hw(dy * x)}, shape {@code (N, C)}. */
    INDArray gateGradient(INDArray x, INDArray dy, double scale, NFNetsOptions o);

    /** {@code dy * gate + dPooled / (H W)}, a new array shaped like {@code dy}; {@code dPooled} is {@code (N, C)}. */
    INDArray inputGradient(INDArray dy, INDArray gate, INDArray dPooled, NFNetsOptions o);
}
