package dev.nfnets.layers.kernels;

import dev.nfnets.layers.Activation;
import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.RationalTanh;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

/** GELU on dense FLOAT arrays in one vectorised Java pass over native memory ({@link FloatKernels}). */
public final class FloatGelu implements ActivationKernel {
    @Override
    public String name() {
        return "float";
    }

    /**
     * GELU on a dense FLOAT array in one vectorised pass ({@link FloatKernels#map}): {@code u = c (x + k x^3)}
     * in float (the reference's order), the gate {@code s = sigmoid(2u) = 0.5 (1 + tanh(u))} in double
     * ({@link RationalTanh#gateInPlace}, within 2e-11) rounded to float, then {@code y = s * x * gain} in float, as
     * the generic path computes it from ND4J's sigmoid. In training with {@code keepGate}, {@code s} is kept for
     * the backward pass. One pass instead of a polynomial pass, ND4J's sigmoid and an output pass: about twice
     * as fast (docs/BENCHMARKS.md).
     */
    @Override
    public Forward forward(Activation f, INDArray x, double gain, boolean keepGate, INDArray out, NFNetsOptions options) {
        OneDnnGelu.requireGelu(f);
        int n = (int) x.length();
        float k = (float) Activation.GELU_K;
        float c = (float) Activation.GELU_C;
        float g = (float) gain;
        INDArray y = out != null ? out : Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
        INDArray s = keepGate ? Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c') : null;
        FloatBuffer[] in = {FloatKernels.floats(x)};
        FloatBuffer[] outs = keepGate ? new FloatBuffer[] {FloatKernels.floats(y), FloatKernels.floats(s)}
                : new FloatBuffer[] {FloatKernels.floats(y)};
        FloatKernels.map(n, in, outs, (i, o, d, m) -> {
            float[] xa = i[0];
            float[] ya = o[0];
            float[] sa = o.length > 1 ? o[1] : ya;
            gate(xa, sa, d, m, k, c);
            for (int j = 0; j < m; j++) {
                ya[j] = sa[j] * xa[j] * g;
            }
        });
        return new Forward(y, s);
    }

    /**
     * {@code dx = gain * gradOut * (s + 6ck s (1 - s) (x^3 + x / 3k))} in float, one pass, with the gate
     * {@code s} kept by the forward pass or recomputed from {@code x} exactly as the forward computes it (one
     * rational function per element: about as cheap as reading a kept array, and the same result).
     */
    @Override
    public INDArray backward(Activation f, INDArray x, INDArray gate, INDArray gradOut, double gain, NFNetsOptions options) {
        OneDnnGelu.requireGelu(f);
        gradOut = Activations.denseFloat(gradOut);
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
}
