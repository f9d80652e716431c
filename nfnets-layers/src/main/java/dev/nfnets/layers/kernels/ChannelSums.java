package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Chooses the {@link ChannelSumKernel} for one call. */
public final class ChannelSums {
    public static final ChannelSumKernel REFERENCE = new Nd4jChannelSum();
    public static final ChannelSumKernel FLOAT = new FloatChannelSum();

    private ChannelSums() {
    }

    /** Dense FLOAT arrays take the float pass when the options allow it, the rest ND4J's reduction. */
    public static ChannelSumKernel choose(INDArray a, INDArray into, NFNetsOptions o) {
        return FloatKernels.eligible(o, a, into) ? FLOAT : REFERENCE;
    }
}
