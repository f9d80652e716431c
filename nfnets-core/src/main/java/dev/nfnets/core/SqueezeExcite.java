package dev.nfnets.core;

import dev.nfnets.layers.AbstractLayer;
import dev.nfnets.layers.Activation;
import dev.nfnets.layers.ActivationLayer;
import dev.nfnets.layers.GlobalAvgPool;
import dev.nfnets.layers.Linear;
import dev.nfnets.layers.Mode;
import dev.nfnets.layers.Shapes;
import dev.nfnets.layers.Tag;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Squeeze-and-excite as the NFNet block applies it: {@code y = x * 2 * sigmoid(W1 relu(W0 mean_hw(x) + b0) + b1)}.
 * The hidden activation is the plain, unscaled ReLU of the reference code (the paper says GELU; the
 * released weights were trained with ReLU). Children are named {@code linear} and {@code linear_1} as in
 * the reference.
 */
public class SqueezeExcite extends AbstractLayer {
    private final int channels;
    private final int hidden;
    private final double gateGain;
    private final GlobalAvgPool pool = new GlobalAvgPool("pool");
    private final Linear fc0;
    private final ActivationLayer relu = new ActivationLayer("relu", Activation.RELU);
    private final Linear fc1;
    private final ActivationLayer sigmoid = new ActivationLayer("sigmoid", Activation.SIGMOID);
    private INDArray cachedInput;
    private INDArray cachedGate;

    public SqueezeExcite(String name, int channels, int hidden, double gateGain) {
        super(name);
        this.channels = channels;
        this.hidden = hidden;
        this.gateGain = gateGain;
        // Haiku's default Linear init (truncated normal, std 1/sqrt(fan_in)) approximated by a plain normal
        this.fc0 = addChild(new Linear("linear", channels, hidden, Math.sqrt(1.0 / channels), true, Tag.SQUEEZE_EXCITE));
        this.fc1 = addChild(new Linear("linear_1", hidden, channels, Math.sqrt(1.0 / hidden), true, Tag.SQUEEZE_EXCITE));
    }

    public int hidden() {
        return hidden;
    }

    public long macs() {
        return (long) channels * hidden * 2;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        checkInput(x, new long[] {-1, channels, -1, -1});
        INDArray gate = sigmoid.forward(fc1.forward(relu.forward(fc0.forward(pool.forward(x, mode), mode), mode), mode), mode);
        INDArray g4 = gate.reshape(gate.size(0), channels, 1, 1).mul(gateGain);
        cachedInput = mode.isTraining() ? x : null;
        cachedGate = mode.isTraining() ? g4 : null;
        return x.mul(g4);
    }

    @Override
    public INDArray backward(INDArray gradOut) {
        INDArray x = requireCached(cachedInput);
        Shapes.check(name(), "output gradient", gradOut, x.shape());
        INDArray dx = gradOut.mul(cachedGate);
        INDArray dGate = gradOut.mul(x).sum(2, 3).muli(gateGain);     // (N, C)
        INDArray dp = fc0.backward(relu.backward(fc1.backward(sigmoid.backward(dGate))));
        return dx.addi(pool.backward(dp));
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        Shapes.check(name(), "input", inputShape, new long[] {-1, channels, -1, -1});
        return inputShape.clone();
    }

    @Override
    public void clearCache() {
        super.clearCache();
        pool.clearCache();
        relu.clearCache();
        sigmoid.clearCache();
        cachedInput = null;
        cachedGate = null;
    }
}
