package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.optim.InPlace;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The reference SGD update: in-place ND4J ops without temporaries; the gradient array ends up holding the update. */
public final class Nd4jSgdUpdate implements SgdUpdateKernel {
    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public void update(INDArray w, INDArray g, INDArray buf, double lr, double momentum, boolean nesterov, double weightDecay,
                       NFNetsOptions options) {
        if (weightDecay != 0) {
            InPlace.axpy(weightDecay, w, g);
        }
        INDArray update = g;
        if (buf != null) {
            InPlace.axpy(1.0, g, buf.muli(momentum));
            update = nesterov ? InPlace.axpy(momentum, buf, g) : buf;
        }
        InPlace.axpy(-lr, update, w);
    }
}
