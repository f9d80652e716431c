package dev.nfnets.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

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
        if (fn == Activation.GELU && FloatKernels.eligible(x)) {
            return geluFloat(x, mode.isTraining() && KEEP_GATES);
        }
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
        if (fn == Activation.GELU && cachedGate != null && FloatKernels.eligible(x, cachedGate, gradOut)) {
            return geluGradFloat(x, cachedGate, gradOut);
        }
        INDArray d = (cachedGate != null ? fn.derivative(x, cachedGate) : fn.derivative(x)).muli(gradOut);
        return gain == 1.0 ? d : d.muli(gain);
    }

    /**
     * GELU on a dense FLOAT array: the polynomial {@code 2u = 2c (x + k x^3)} in one pass ({@link FloatKernels},
     * float arithmetic in the reference's order), the native sigmoid in place, then {@code gain * x * s} in one
     * more pass. Element-wise chains of ND4J ops cost one pass over memory and one dispatch each (the BLAS
     * axpy among them also competed with OpenMP's spinning threads). In training the gate {@code s} is kept;
     * otherwise the output overwrites it.
     */
    private INDArray geluFloat(INDArray x, boolean keepGate) {
        int n = (int) x.length();
        float k = (float) Activation.GELU_K;
        float c2 = (float) (2 * Activation.GELU_C);
        float g = (float) gain;
        INDArray s = Nd4j.create(DataType.FLOAT, x.shape(), 'c');
        FloatBuffer xb = FloatKernels.floats(x);
        FloatBuffer sb = FloatKernels.floats(s);
        FloatKernels.parallel(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                float xi = xb.get(i);
                sb.put(i, (xi * xi * xi * k + xi) * c2);
            }
        });
        Nd4j.exec(new Sigmoid(s, s));
        INDArray y = keepGate ? Nd4j.create(DataType.FLOAT, x.shape(), 'c') : s;
        FloatBuffer yb = FloatKernels.floats(y);
        FloatKernels.parallel(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                yb.put(i, sb.get(i) * xb.get(i) * g);
            }
        });
        cachedGate = keepGate ? s : null;
        return y;
    }

    /** {@code dx = gain * gradOut * (s + 6ck s (1 - s) (x^3 + x / 3k))} in one pass from the kept gate. */
    private INDArray geluGradFloat(INDArray x, INDArray s, INDArray gradOut) {
        int n = (int) x.length();
        float a = (float) (1 / (3 * Activation.GELU_K));
        float c6k = (float) (6 * Activation.GELU_C * Activation.GELU_K);
        float g = (float) gain;
        INDArray dx = Nd4j.create(DataType.FLOAT, x.shape(), 'c');
        FloatBuffer xb = FloatKernels.floats(x);
        FloatBuffer sb = FloatKernels.floats(s);
        FloatBuffer gb = FloatKernels.floats(gradOut);
        FloatBuffer db = FloatKernels.floats(dx);
        FloatKernels.parallel(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                float xi = xb.get(i);
                float si = sb.get(i);
                float d = si + c6k * ((xi * xi * xi + xi * a) * si * (1 - si));
                db.put(i, d * gb.get(i) * g);
            }
        });
        return dx;
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
