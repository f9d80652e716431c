package dev.nfnets.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
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
     * Whether training keeps the activation's gate (GELU's sigmoid) from the forward pass for the backward pass:
     * one more activation-sized array per layer in training, for a backward pass without recomputing the
     * sigmoid. Null: as the options say ({@code nfnets.activationGates}: {@code keep} and {@code auto} keep it,
     * {@code recompute} does not); {@code NFNet} sets it per model from
     * {@link NFNetsOptions#keepActivationGates(long)}: kept for small models (dispatch-bound: {@code nfnet-mnist}
     * 8% faster per step), recomputed for large ones (memory-bound: F0 at 128 px the same speed with 250 MiB less
     * peak memory; docs/BENCHMARKS.md). Recomputing the gate costs one vectorised pass.
     */
    private Boolean keepGate;

    /**
     * FLOAT GELU layers of at least {@link NFNetsOptions#oneDnnEltwiseMin()} elements run through oneDNN's JIT
     * eltwise kernels ({@link OneDnnEltwise}; about 8x faster than the Java pass on F0's activations) when the
     * options allow it and its natives load; smaller ones keep the Java pass, which has no native-call overhead.
     */
    private boolean oneDnn(INDArray x) {
        NFNetsOptions o = options();
        return o.oneDnnEltwise() && x.dataType() == DataType.FLOAT && x.length() >= o.oneDnnEltwiseMin()
                && Shapes.wholeInCOrder(x) && OneDnnEltwise.available() && Nd4j.getEnvironment().helpersAllowed();
    }

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

    /** Whether training keeps the gate for the backward pass (overrides the options); returns this layer. */
    public ActivationLayer keepGate(boolean keep) {
        this.keepGate = keep;
        return this;
    }

    public boolean keepsGate() {
        return keepGate != null ? keepGate : options().activationGates() != NFNetsOptions.Gates.RECOMPUTE;
    }

    private boolean inPlaceInference;

    /**
     * Lets inference passes ({@code Mode.EVAL}) overwrite the input with the output instead of allocating one
     * (dense FLOAT inputs): for owners whose input array is used by nothing else, such as an activation right
     * after a convolution. Training never does (the backward pass needs the input). Returns this layer.
     */
    public ActivationLayer inPlaceInference(boolean on) {
        this.inPlaceInference = on;
        return this;
    }

    public boolean isInPlaceInference() {
        return inPlaceInference;
    }

    public Activation function() {
        return fn;
    }

    public double gain() {
        return gain;
    }

    @Override
    public INDArray forward(INDArray x, Mode mode) {
        return profileForward(x, () -> forwardImpl(x, mode));
    }

    private INDArray forwardImpl(INDArray x, Mode mode) {
        cachedInput = mode.isTraining() ? x : null;
        cachedGate = null;
        boolean inPlace = inPlaceInference && !mode.isTraining();
        if (fn == Activation.GELU && oneDnn(x)) {
            INDArray y = inPlace ? x : Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
            OneDnnEltwise.geluForward(x, y, (float) gain);
            return y;
        }
        if (fn == Activation.GELU && FloatKernels.eligible(options(), x)) {
            return geluFloat(x, mode.isTraining() && keepsGate(), inPlace);
        }
        INDArray y;
        if (mode.isTraining() && keepsGate() && fn.hasGate()) {
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
        return profileBackward(() -> backwardImpl(gradOut));
    }

    private INDArray backwardImpl(INDArray gradOut) {
        INDArray x = requireCached(cachedInput);
        Shapes.check(name(), "output gradient", gradOut, x.shape());
        if (fn == Activation.GELU && oneDnn(x) && gradOut.dataType() == DataType.FLOAT) {
            INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
            OneDnnEltwise.geluBackward(x, Shapes.wholeInCOrder(gradOut) ? gradOut : gradOut.dup('c'), dx, (float) gain);
            return dx;
        }
        if (fn == Activation.GELU && FloatKernels.eligible(options(), x, gradOut)
                && (cachedGate == null || FloatKernels.dense(cachedGate))) {
            return geluGradFloat(x, cachedGate, gradOut);
        }
        INDArray d = (cachedGate != null ? fn.derivative(x, cachedGate) : fn.derivative(x)).muli(gradOut);
        return gain == 1.0 ? d : d.muli(gain);
    }

    /**
     * GELU on a dense FLOAT array in one vectorised pass ({@link FloatKernels#map}): {@code u = c (x + k x^3)}
     * in float (the reference's order), the gate {@code s = sigmoid(2u) = 0.5 (1 + tanh(u))} in double
     * ({@link RationalTanh#gateInPlace}, within 2e-11) rounded to float, then {@code y = s * x * gain} in float, as
     * the generic path computes it from ND4J's sigmoid. In training with {@code keepGate}, {@code s} is kept for
     * the backward pass. One pass instead of a polynomial pass, ND4J's sigmoid and an output pass: about twice
     * as fast (docs/BENCHMARKS.md).
     */
    private INDArray geluFloat(INDArray x, boolean keepGate, boolean inPlace) {
        int n = (int) x.length();
        float k = (float) Activation.GELU_K;
        float c = (float) Activation.GELU_C;
        float g = (float) gain;
        INDArray y = inPlace ? x : Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
        INDArray s = keepGate ? Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c') : null;
        FloatBuffer[] in = {FloatKernels.floats(x)};
        FloatBuffer[] out = keepGate ? new FloatBuffer[] {FloatKernels.floats(y), FloatKernels.floats(s)}
                : new FloatBuffer[] {FloatKernels.floats(y)};
        FloatKernels.map(n, in, out, (i, o, d, m) -> {
            float[] xa = i[0];
            float[] ya = o[0];
            float[] sa = o.length > 1 ? o[1] : ya;
            gate(xa, sa, d, m, k, c);
            for (int j = 0; j < m; j++) {
                ya[j] = sa[j] * xa[j] * g;
            }
        });
        cachedGate = s;
        return y;
    }

    /**
     * {@code dx = gain * gradOut * (s + 6ck s (1 - s) (x^3 + x / 3k))} in float, one pass, with the gate
     * {@code s} kept by the forward pass or recomputed from {@code x} exactly as the forward computes it (one
     * rational function per element: about as cheap as reading a kept array, and the same result).
     */
    private INDArray geluGradFloat(INDArray x, INDArray gate, INDArray gradOut) {
        int n = (int) x.length();
        float k = (float) Activation.GELU_K;
        float c = (float) Activation.GELU_C;
        float a = (float) (1 / (3 * Activation.GELU_K));
        float c6k = (float) (6 * Activation.GELU_C * Activation.GELU_K);
        float g = (float) gain;
        INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
        FloatBuffer[] in = gate != null
                ? new FloatBuffer[] {FloatKernels.floats(x), FloatKernels.floats(gradOut), FloatKernels.floats(gate)}
                : new FloatBuffer[] {FloatKernels.floats(x), FloatKernels.floats(gradOut)};
        FloatKernels.map(n, in, new FloatBuffer[] {FloatKernels.floats(dx)}, (i, o, d, m) -> {
            float[] xa = i[0];
            float[] ga = i[1];
            float[] da = o[0];
            float[] sa;
            if (i.length > 2) {
                sa = i[2];
            } else {
                sa = da; // the output chunk holds s until it is overwritten element by element below
                gate(xa, sa, d, m, k, c);
            }
            for (int j = 0; j < m; j++) {
                float xj = xa[j];
                float sj = sa[j];
                float dj = sj + c6k * ((xj * xj * xj + xj * a) * sj * (1 - sj));
                da[j] = dj * ga[j] * g;
            }
        });
        return dx;
    }

    /**
     * {@code s[j] = sigmoid(2 u[j])}, {@code u = c (x + k x^3)} in float arithmetic (the reference's order), the
     * gate in double ({@link RationalTanh#gateInPlace}) with {@code d} as scratch. Float-only, conversion-only
     * and double-only loops: the JIT vectorises each, but not loops that mix float and double (measured 1.6x
     * slower).
     */
    private static void gate(float[] x, float[] s, double[] d, int m, float k, float c) {
        for (int j = 0; j < m; j++) {
            float xj = x[j];
            s[j] = (xj * xj * xj * k + xj) * c;
        }
        for (int j = 0; j < m; j++) {
            d[j] = s[j];
        }
        RationalTanh.gateInPlace(d, m);
        for (int j = 0; j < m; j++) {
            s[j] = (float) d[j];
        }
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

    @Override
    protected String profileKey(INDArray x) {
        return "ActivationLayer " + fn.name().toLowerCase(java.util.Locale.ROOT) + " " + Shapes.str(x.shape());
    }
}
