package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Chooses the {@link WeightStandardizationKernel} for one forward pass. */
public final class WeightStandardizations {
    public static final WeightStandardizationKernel REFERENCE = new Nd4jWeightStandardization();
    public static final WeightStandardizationKernel HOST = new HostWeightStandardization();
    public static final WeightStandardizationKernel FLOAT = new FloatWeightStandardization();

    private WeightStandardizations() {
    }

    /**
     * Small kernels (up to {@link NFNetsOptions#hostMaxElements()}) take the host loop: a dozen native ops on a few
     * thousand floats cost more in dispatch than the arithmetic; large dense FLOAT kernels the float passes; the
     * rest the ND4J ops.
     */
    public static WeightStandardizationKernel choose(INDArray kernel, INDArray gain, NFNetsOptions o) {
        if (HostArrays.eligible(o, kernel, gain)) {
            return HOST;
        }
        if (FloatKernels.eligible(o, kernel, gain)) {
            return FLOAT;
        }
        return REFERENCE;
    }
}
