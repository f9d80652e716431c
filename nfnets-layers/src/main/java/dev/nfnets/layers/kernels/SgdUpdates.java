package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Chooses the {@link SgdUpdateKernel} for one parameter. */
public final class SgdUpdates {
    public static final SgdUpdateKernel REFERENCE = new Nd4jSgdUpdate();
    public static final SgdUpdateKernel HOST = new HostSgdUpdate();
    public static final SgdUpdateKernel FLOAT = new FloatSgdUpdate();

    private SgdUpdates() {
    }

    /**
     * Small whole arrays (up to {@link NFNetsOptions#hostMaxElements()}) take the host loop: a dozen native ops on a
     * few thousand floats cost more in dispatch than the arithmetic; large dense FLOAT arrays the float pass;
     * the rest the ND4J ops.
     */
    public static SgdUpdateKernel choose(INDArray w, INDArray grad, INDArray buf, NFNetsOptions o) {
        if (HostArrays.eligible(o, w, grad) && (buf == null || HostArrays.eligible(o, buf))) {
            return HOST;
        }
        if (FloatKernels.eligible(o, w, grad) && (buf == null || FloatKernels.dense(buf))) {
            return FLOAT;
        }
        return REFERENCE;
    }
}
