package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The reference implementation: ND4J ops, any floating-point type. */
public final class Nd4jChannelGate implements ChannelGateKernel {
    Nd4jChannelGate() {
    }

    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public INDArray gateGradient(INDArray x, INDArray dy, double scale, NFNetsOptions o) {
        return dy.mul(x).sum(2, 3).muli(scale);
    }

    @Override
    public INDArray inputGradient(INDArray dy, INDArray gate, INDArray dPooled, NFNetsOptions o) {
        long[] s = dy.shape();
        INDArray perPlane = dPooled.div(s[2] * s[3]).reshape(s[0], s[1], 1, 1);
        return dy.mul(gate).addi(perPlane);
    }
}
