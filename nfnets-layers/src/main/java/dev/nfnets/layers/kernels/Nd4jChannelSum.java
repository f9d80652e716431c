package dev.nfnets.layers.kernels;

import dev.nfnets.layers.ChannelBlocks;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The reference implementation: ND4J's sum over dimensions (0, 2, 3), added into the target. */
public final class Nd4jChannelSum implements ChannelSumKernel {
    Nd4jChannelSum() {
    }

    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public void accumulate(INDArray a, INDArray into, NFNetsOptions o) {
        into.addi(ChannelBlocks.plain(a).sum(0, 2, 3).reshape(into.shape()));
    }
}
