package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to add the per-channel sums of an {@code (N, C, H, W)} array over batch and space into a {@code (C)}
 * vector: a convolution's bias gradient, {@code db += sum_{n,h,w} dy}.
 *
 * <p>Implementations ({@link ChannelSums#choose} picks one from the options):
 * <ul>
 *   <li>{@link Nd4jChannelSum}: ND4J's reduction over dimensions (0, 2, 3); the reference implementation.</li>
 *   <li>{@link FloatChannelSum}: dense FLOAT arrays, one pass over each channel's contiguous planes, summed in double
 *       and added to the target with one rounding ({@code nfnets.floatKernels}).</li>
 * </ul>
 */
public interface ChannelSumKernel {
    String name();

    /**
     * {@code into[c] += sum over n, h, w of a[n, c, h, w]}; {@code a} may also be in {@link dev.nfnets.layers.ChannelBlocks}'
     * blocked layout, which gives the same sums bit for bit.
     */
    void accumulate(INDArray a, INDArray into, NFNetsOptions o);
}
