package dev.nfnets.layers.kernels;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Shapes;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Chooses the {@link ActivationKernel} for one forward pass. */
public final class Activations {
    public static final ActivationKernel REFERENCE = new Nd4jActivation();
    public static final ActivationKernel FLOAT_GELU = new FloatGelu();
    public static final ActivationKernel ONEDNN_GELU = new OneDnnGelu();

    private Activations() {
    }

    /**
     * GELU on a dense FLOAT array of at least {@link NFNetsOptions#oneDnnEltwiseMin()} elements takes oneDNN
     * (about 8x faster than the Java pass on F0's activations) when the options allow it, its natives load and
     * ND4J's helpers are on; other dense FLOAT GELUs take the Java pass, which has no native-call overhead;
     * everything else the reference ops.
     */
    public static ActivationKernel choose(Activation f, INDArray x, NFNetsOptions o) {
        if (f != Activation.GELU) {
            return REFERENCE;
        }
        if (o.oneDnnEltwise() && x.dataType() == DataType.FLOAT && x.length() >= o.oneDnnEltwiseMin()
                && Shapes.wholeInCOrder(x) && OneDnnEltwise.available() && Nd4j.getEnvironment().helpersAllowed()) {
            return ONEDNN_GELU;
        }
        if (FloatKernels.eligible(o, x)) {
            return FLOAT_GELU;
        }
        return REFERENCE;
    }

    /** {@code a} itself when it is a whole, c-order FLOAT array, else a dense FLOAT copy. */
    static INDArray denseFloat(INDArray a) {
        if (a.dataType() != DataType.FLOAT) {
            return a.castTo(DataType.FLOAT).dup('c');
        }
        return Shapes.wholeInCOrder(a) ? a : a.dup('c');
    }
}
