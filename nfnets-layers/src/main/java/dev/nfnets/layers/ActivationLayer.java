package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code y = gain * f(x)} element-wise. With {@code gain} the NFNet gamma of {@code f}, this is the
 * reference's variance-preserving activation ({@code dev.nfnets.core.Gammas} has the table).
 */
public class ActivationLayer extends AbstractLayer {
    private final Activation fn;
    private final double gain;
    private INDArray cachedInput;

    public ActivationLayer(String name, Activation fn) {
        this(name, fn, 1.0);
    }

    public ActivationLayer(String name, Activation fn, double gain) {
        super(name);
        this.fn = fn;
        this.gain = gain;
    }

    public Activation function() {
        return fn;
    }

    public double gain() {
        return gain;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        cachedInput = mode.isTraining() ? x : null;
        INDArray y = fn.apply(x);
        return gain == 1.0 ? y : y.muli(gain);
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        INDArray x = requireCached(cachedInput);
        Shapes.check(name(), "output gradient", gradOut, x.shape());
        INDArray d = fn.derivative(x).muli(gradOut);
        return gain == 1.0 ? d : d.muli(gain);
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public void clearCache() {
        cachedInput = null;
    }
}
