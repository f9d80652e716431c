package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The reference implementation: both arrays cast to DOUBLE, multiplied and summed by ND4J. */
public final class Nd4jDoubleDot implements DoubleDotKernel {
    Nd4jDoubleDot() {
    }

    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public double dot(INDArray a, INDArray b, NFNetsOptions o) {
        return a.castTo(DataType.DOUBLE).mul(b.castTo(DataType.DOUBLE)).sumNumber().doubleValue();
    }
}
