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
     * activation-sized array per layer in training, for a backward pass without recomputing the sigmoid.
     * {@code -Dnfnets.activationGates=true|false} forces it for every layer; unset (or {@code auto}), each
     * layer keeps its own setting ({@link #keepGate(boolean)}, default on), which {@code NFNet} sets per model:
     * kept for small models (dispatch-bound: {@code nfnet-mnist} 8% faster per step), recomputed for large ones
     * (memory-bound: F0 at 128 px the same speed with 250 MiB less peak memory; docs/BENCHMARKS.md).
     */
    public static final Boolean KEEP_GATES_OVERRIDE = parseGates(System.getProperty("nfnets.activationGates", "auto"));

    private boolean keepGate = KEEP_GATES_OVERRIDE == null || KEEP_GATES_OVERRIDE;

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

    private static Boolean parseGates(String v) {
        return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            case "auto", "" -> null;
            default -> throw new IllegalArgumentException("-Dnfnets.activationGates must be true, false or auto, got '" + v + "'");
        };
    }

    /**
     * Whether training keeps the gate for the backward pass (ignored when {@code -Dnfnets.activationGates} is
     * set); returns this layer.
     */
    public ActivationLayer keepGate(boolean keep) {
        if (KEEP_GATES_OVERRIDE == null) {
            this.keepGate = keep;
        }
        return this;
    }

    public boolean keepsGate() {
        return keepGate;
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
            return geluFloat(x, mode.isTraining() && keepGate);
        }
        INDArray y;
        if (mode.isTraining() && keepGate && fn.hasGate()) {
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
        if (fn == Activation.GELU && FloatKernels.eligible(x, gradOut)
                && (cachedGate == null || FloatKernels.eligible(cachedGate))) {
            return geluGradFloat(x, cachedGate != null ? cachedGate : geluGate(x), gradOut);
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
        float g = (float) gain;
        INDArray s = geluGate(x);
        FloatBuffer xb = FloatKernels.floats(x);
        FloatBuffer sb = FloatKernels.floats(s);
        INDArray y = keepGate ? Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c') : s;
        FloatBuffer yb = FloatKernels.floats(y);
        FloatKernels.parallel(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                yb.put(i, sb.get(i) * xb.get(i) * g);
            }
        });
        cachedGate = keepGate ? s : null;
        return y;
    }

    /** GELU's gate {@code s = sigmoid(2u)}, {@code 2u = 2c (x + k x^3)}, as a new array. */
    private static INDArray geluGate(INDArray x) {
        int n = (int) x.length();
        float k = (float) Activation.GELU_K;
        float c2 = (float) (2 * Activation.GELU_C);
        INDArray s = Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
        FloatBuffer xb = FloatKernels.floats(x);
        FloatBuffer sb = FloatKernels.floats(s);
        FloatKernels.parallel(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                float xi = xb.get(i);
                sb.put(i, (xi * xi * xi * k + xi) * c2);
            }
        });
        return Nd4j.exec(new Sigmoid(s, s));
    }

    /** {@code dx = gain * gradOut * (s + 6ck s (1 - s) (x^3 + x / 3k))} in one pass from the gate. */
    private INDArray geluGradFloat(INDArray x, INDArray s, INDArray gradOut) {
        int n = (int) x.length();
        float a = (float) (1 / (3 * Activation.GELU_K));
        float c6k = (float) (6 * Activation.GELU_C * Activation.GELU_K);
        float g = (float) gain;
        INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
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
