package dev.nfnets.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Mean softmax cross-entropy over the batch with optional label smoothing, for hard labels or soft
 * targets (MixUp/CutMix): {@code y' = (1-s) y + s/K}, {@code loss = mean_b(-sum_k y'_k log_softmax(z)_k)}.
 * This is the NFNet reference loss (s = 0.1 in its recipe).
 *
 * <pre>{@code
 * SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(0.1);
 * SoftmaxCrossEntropy.Result r = ce.compute(logits, SoftmaxCrossEntropy.oneHot(labels, 10, logits.dataType()));
 * model.backward(r.gradient());
 * }</pre>
 */
public final class SoftmaxCrossEntropy {
    private final double labelSmoothing;

    public SoftmaxCrossEntropy(double labelSmoothing) {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
        }
        this.labelSmoothing = labelSmoothing;
    }

    public double labelSmoothing() {
        return labelSmoothing;
    }

    /** Loss value and dLoss/dLogits (same shape as the logits). */
    public record Result(double loss, INDArray gradient) {
    }

    public Result compute(INDArray logits, INDArray targets) {
        Shapes.check("SoftmaxCrossEntropy", "logits", logits, new long[] {-1, -1});
        Shapes.check("SoftmaxCrossEntropy", "targets", targets, logits.shape());
        long n = logits.size(0);
        long k = logits.size(1);
        INDArray y = targets.castTo(logits.dataType());
        if (labelSmoothing > 0) {
            y = y.mul(1 - labelSmoothing).addi(labelSmoothing / k);
        }
        INDArray max = logits.max(true, 1);
        INDArray shifted = logits.subColumnVector(max);
        INDArray lse = Transforms.log(Transforms.exp(shifted, true).sum(true, 1), false);
        INDArray logp = shifted.subiColumnVector(lse);
        double loss = -logp.mul(y).sumNumber().doubleValue() / n;
        // d/dz of -sum_k y_k log_softmax(z)_k = softmax(z) * sum_k y_k - y
        INDArray grad = Transforms.exp(logp, true).muliColumnVector(y.sum(true, 1)).subi(y).divi(n);
        return new Result(loss, grad);
    }

    /** One-hot targets {@code (N, numClasses)} for integer labels; every label is range-checked. */
    public static INDArray oneHot(int[] labels, int numClasses, org.nd4j.linalg.api.buffer.DataType type) {
        INDArray t = Nd4j.zeros(type, labels.length, numClasses);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + labels[i] + " at index " + i + " is outside [0, " + numClasses + ")");
            }
            t.putScalar(i, labels[i], 1.0);
        }
        return t;
    }
}
