package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Chooses the {@link ChannelGateKernel} for one forward pass. */
public final class ChannelGates {
    public static final ChannelGateKernel REFERENCE = new Nd4jChannelGate();
    public static final ChannelGateKernel FLOAT = new FloatChannelGate();

    private ChannelGates() {
    }

    /** Dense FLOAT activations and gates take the float passes when the options allow them, the rest the ND4J ops. */
    public static ChannelGateKernel choose(INDArray x, INDArray gate, NFNetsOptions o) {
        return FloatKernels.eligible(o, x, gate) ? FLOAT : REFERENCE;
    }
}
