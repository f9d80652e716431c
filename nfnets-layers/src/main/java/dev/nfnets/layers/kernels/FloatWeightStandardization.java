package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.Shapes;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Large dense FLOAT kernels: the host implementation's formula and rounding steps in two passes over the
 * kernel's native memory (column means and centred sums of squares together, then the standardised kernel), split
 * over the cores by {@link FloatKernels}. Only per-channel numbers are kept for the backward pass, which recomputes
 * {@code W - mean} as it goes, and {@link #recompute} rebuilds the standardised kernel from them in one pass.
 * The backward pass reads {@code G} and {@code W} once for the per-channel sums and once more to add
 * {@code dW} straight into the gradient buffer.
 */
public final class FloatWeightStandardization implements WeightStandardizationKernel {
    /** Per-channel numbers of one standardisation; no centred copy of the kernel. */
    private record FloatState(WeightStandardizationKernel kernel, int fanIn, double[] mean, double[] scale,
                              double[] shift, double[] rsqrt, double[] gain, boolean[] active) implements State {
    }

    FloatWeightStandardization() {
    }

    /** Its state holds per-channel Java arrays only. */
    @Override
    public boolean stateOutlivesScope() {
        return true;
    }

    @Override
    public String name() {
        return "float";
    }

    @Override
    public Forward forward(INDArray kernel, INDArray gain, double eps, long fanIn, boolean keep, NFNetsOptions o) {
        return forwardInto(kernel, gain, eps, fanIn, keep, null, o);
    }

    /** {@link #forward}, written into {@code dest} (null: a new array), which must be dense. */
    @Override
    public Forward forwardInto(INDArray kernel, INDArray gain, double eps, long fanIn, boolean keep, INDArray dest,
                               NFNetsOptions o) {
        if (dest != null && (!FloatKernels.dense(dest) || dest.length() != kernel.length())) {
            throw new IllegalArgumentException(name() + " weight standardisation: output " + Shapes.str(dest.shape())
                    + " of " + dest.dataType() + " is not a whole c-order FLOAT array of the kernel's "
                    + kernel.length() + " elements");
        }
        WeightStandardizationKernel.checkShapes(name() + " weight standardisation", kernel, gain, fanIn);
        int n = (int) fanIn;
        int out = (int) gain.length();
        FloatBuffer wb = FloatKernels.floats(kernel);
        double[] g = HostArrays.read(gain);
        // one pass for the mean and the centred sum of squares, shifted by the kernel's first row (values of the
        // same spread as the column's, so nothing cancels): one read of the kernel fewer than mean-then-centred
        double[] shift0 = new double[out];
        for (int c = 0; c < out; c++) {
            shift0[c] = wb.get(c);
        }
        double[] shiftedSum = new double[out];
        double[] sumSq = new double[out];
        FloatKernels.columnReduce(FloatKernels.ColumnSum.SHIFTED_SUM_AND_SQUARES, wb, null, n, out, shift0, shiftedSum,
                sumSq);
        double[] mean = new double[out];
        for (int c = 0; c < out; c++) {
            double d = shiftedSum[c];
            sumSq[c] = Math.max(0.0, sumSq[c] - d * d / n);
            mean[c] = shift0[c] + d / n;
        }
        double[] rsqrt = new double[out];
        double[] scale = new double[out];
        double[] shift = new double[out];
        boolean[] active = new boolean[out];
        for (int c = 0; c < out; c++) {
            double nvar = (float) ((float) (sumSq[c] / n) * n);
            active[c] = nvar > eps;
            rsqrt[c] = (float) (1.0 / Math.sqrt(Math.max(nvar, eps)));
            scale[c] = (float) (rsqrt[c] * g[c]);
            shift[c] = (float) ((float) mean[c] * scale[c]);
        }
        FloatState s = new FloatState(this, n, mean, scale, shift, rsqrt, g, active);
        return new Forward(write(kernel, wb, s, dest), keep ? s : null);
    }

    @Override
    public Forward recompute(State state, INDArray kernel, INDArray gain, double eps, long fanIn, NFNetsOptions o) {
        FloatState s = WeightStandardizationKernel.stateOf(this, state, FloatState.class);
        return new Forward(write(kernel, FloatKernels.floats(kernel), s, null), s);
    }

    /**
     * {@code W * scale - mean * scale} per channel, rounded as the reference does, into {@code dest} (null: a new
     * kernel).
     */
    private static INDArray write(INDArray kernel, FloatBuffer wb, FloatState s, INDArray dest) {
        int n = s.fanIn();
        int out = s.scale().length;
        // scale and shift are float values, so float arithmetic rounds exactly as (float) (w * scale) - shift
        // in double would, and the JIT vectorises it
        float[] scale = toFloats(s.scale());
        float[] shift = toFloats(s.shift());
        INDArray result = dest != null ? dest : Nd4j.createUninitialized(DataType.FLOAT, kernel.shape(), 'c');
        FloatBuffer hb = FloatKernels.floats(result);
        FloatKernels.parallel(n, (long) n * out, (r0, r1) -> {
            float[] row = new float[out];
            for (int i = r0; i < r1; i++) {
                wb.get(i * out, row, 0, out);
                for (int c = 0; c < out; c++) {
                    row[c] = row[c] * scale[c] - shift[c];
                }
                hb.put(i * out, row, 0, out);
            }
        });
        return result;
    }

    @Override
    public INDArray backward(State state, INDArray kernel, INDArray dStandardized, INDArray dKernel, boolean dKernelIsZero,
                             NFNetsOptions o) {
        FloatState c = WeightStandardizationKernel.stateOf(this, state, FloatState.class);
        int n = c.fanIn();
        int out = c.scale().length;
        FloatBuffer gb = FloatKernels.floats(FloatKernels.dense(dStandardized) ? dStandardized : dStandardized.dup('c'));
        FloatBuffer wb = FloatKernels.floats(kernel);
        double[] gSum = new double[out];
        double[] gd = new double[out];
        double[] mean = c.mean();
        FloatKernels.columnReduce(FloatKernels.ColumnSum.SUM_AND_CENTRED_PRODUCT, gb, wb, n, out, mean, gSum, gd);
        double[] dGain = new double[out];
        double[] gMean = new double[out];
        double[] coef = new double[out];
        for (int ch = 0; ch < out; ch++) {
            gMean[ch] = gSum[ch] / n;
            dGain[ch] = gd[ch] * c.rsqrt()[ch];
            double r = c.rsqrt()[ch];
            coef[ch] = c.active()[ch] ? r * r * r * c.gain()[ch] * gd[ch] : 0.0;
        }
        INDArray dGainArr = Nd4j.create(DataType.FLOAT, new long[] {out}, 'c');
        HostArrays.write(dGainArr, dGain);
        if (dKernel == null) {
            return dGainArr;
        }
        // float arithmetic on row copies (vectorised); the per-channel factors were computed in double
        float[] scale = toFloats(c.scale());
        float[] gMeanF = toFloats(gMean);
        float[] coefF = toFloats(coef);
        float[] meanF = toFloats(mean);
        FloatBuffer db = FloatKernels.floats(dKernel);
        FloatKernels.parallel(n, (long) n * out, (r0, r1) -> {
            float[] gr = new float[out];
            float[] wr = new float[out];
            float[] dr = new float[out];
            for (int i = r0; i < r1; i++) {
                int base = i * out;
                gb.get(base, gr, 0, out);
                wb.get(base, wr, 0, out);
                if (dKernelIsZero) {
                    Arrays.fill(dr, 0f); // a row in cache, not the stale buffer in memory
                } else {
                    db.get(base, dr, 0, out);
                }
                for (int ch = 0; ch < out; ch++) {
                    dr[ch] += (gr[ch] - gMeanF[ch]) * scale[ch] - coefF[ch] * (wr[ch] - meanF[ch]);
                }
                db.put(base, dr, 0, out);
            }
        });
        return dGainArr;
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
