package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code y = gain * f(x)} element-wise. With {@code gain} the NFNet gamma of {@code f}, this is the
 * reference's variance-preserving activation ({@code dev.nfnets.core.Gammas} has the table).
 */
public class ActivationLayer extends AbstractLayer {
    private final Activation fn;
    private final double gain;
    /**
     * Keep the activation's gate (GELU's sigmoid) from the forward pass for the backward pass: one more
     * activation-sized array per layer in training, for a backward pass without the two sigmoids that dominate
     * its cost (nfnet-mnist step backward 420 -> 290 ms; F0: same step time, +8% peak memory; docs/BENCHMARKS.md).
     * {@code -Dnfnets.activationGates=false} recomputes it instead.
     */
    public static final boolean KEEP_GATES = Boolean.parseBoolean(System.getProperty("nfnets.activationGates", "true"));

    private INDArray cachedInput;
    private INDArray cachedGate;

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
        cachedGate = null;
        INDArray y;
        if (mode.isTraining() && KEEP_GATES && fn.hasGate()) {
            INDArray[] yg = fn.applyWithGate(x);
            y = yg[0];
            cachedGate = yg[1];
        } else {
            y = fn.apply(x);
        }
        return gain == 1.0 ? y : y.muli(gain);
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        INDArray x = requireCached(cachedInput);
        Shapes.check(name(), "output gradient", gradOut, x.shape());
        INDArray d = (cachedGate != null ? fn.derivative(x, cachedGate) : fn.derivative(x)).muli(gradOut);
        return gain == 1.0 ? d : d.muli(gain);
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public void clearCache() {
        cachedInput = null;
        cachedGate = null;
    }
}
