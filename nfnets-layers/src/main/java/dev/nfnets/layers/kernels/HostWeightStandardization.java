package dev.nfnets.layers.kernels;

import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Small kernels in one host loop: a dozen native ops on a few thousand floats cost more in dispatch than the
 * arithmetic. The reference formula in double precision; for FLOAT kernels the reference's float32 rounding
 * steps are reproduced (var, N*var, rsqrt, *gain, then {@code W*scale - mean*scale} with each product rounded),
 * since ill-conditioned sums downstream (the skip gains' gradients) amplify even one-ulp differences in the kernel.
 */
public final class HostWeightStandardization implements WeightStandardizationKernel {
    /** The centred kernel and the per-channel numbers, in double precision. */
    private record HostState(WeightStandardizationKernel kernel, int fanIn, double[] centred, double[] scale,
                             double[] rsqrt, double[] gain, boolean[] active) implements State {
    }

    HostWeightStandardization() {
    }

    /** Its state holds per-channel Java arrays only. */
    @Override
    public boolean stateOutlivesScope() {
        return true;
    }

    @Override
    public String name() {
        return "host";
    }

    @Override
    public Forward forward(INDArray kernel, INDArray gain, double eps, long fanIn, boolean keep, NFNetsOptions o) {
        WeightStandardizationKernel.checkShapes(name() + " weight standardisation", kernel, gain, fanIn);
        int n = (int) fanIn;
        int out = (int) gain.length();
        double[] wv = HostArrays.read(kernel);
        double[] g = HostArrays.read(gain);
        double[] mean = new double[out];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < out; c++) {
                mean[c] += wv[i * out + c];
            }
        }
        for (int c = 0; c < out; c++) {
            mean[c] /= n;
        }
        double[] centred = new double[n * out];
        double[] sumSq = new double[out];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < out; c++) {
                double d = wv[i * out + c] - mean[c];
                centred[i * out + c] = d;
                sumSq[c] += d * d;
            }
        }
        boolean f32 = kernel.dataType() == DataType.FLOAT;
        double[] rsqrt = new double[out];
        double[] scale = new double[out];
        double[] shift = new double[out];
        boolean[] active = new boolean[out];
        for (int c = 0; c < out; c++) {
            double nvar = round(f32, round(f32, sumSq[c] / n) * n);   // N * population variance
            active[c] = nvar > eps;
            rsqrt[c] = round(f32, 1.0 / Math.sqrt(Math.max(nvar, eps)));
            scale[c] = round(f32, rsqrt[c] * g[c]);
            shift[c] = round(f32, round(f32, mean[c]) * scale[c]);
        }
        double[] hat = new double[n * out];
        for (int i = 0; i < n * out; i++) {
            int c = i % out;
            hat[i] = round(f32, wv[i] * scale[c]) - shift[c];
        }
        INDArray result = Nd4j.create(kernel.dataType(), kernel.shape(), 'c');
        HostArrays.write(result, hat);
        return new Forward(result, keep ? new HostState(this, n, centred, scale, rsqrt, g, active) : null);
    }

    @Override
    public INDArray backward(State state, INDArray kernel, INDArray dStandardized, INDArray dKernel, boolean dKernelIsZero,
                             NFNetsOptions o) {
        HostState c = WeightStandardizationKernel.stateOf(this, state, HostState.class);
        int n = c.fanIn();
        int out = c.scale().length;
        double[] gv = HostArrays.read(HostArrays.eligible(o, dStandardized) ? dStandardized : dStandardized.dup('c'));
        double[] gd = new double[out];
        double[] gMean = new double[out];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < out; ch++) {
                double gi = gv[i * out + ch];
                gd[ch] += gi * c.centred()[i * out + ch];
                gMean[ch] += gi;
            }
        }
        double[] dGain = new double[out];
        double[] coef = new double[out];
        for (int ch = 0; ch < out; ch++) {
            gMean[ch] /= n;
            dGain[ch] = gd[ch] * c.rsqrt()[ch];
            double r = c.rsqrt()[ch];
            coef[ch] = c.active()[ch] ? r * r * r * c.gain()[ch] * gd[ch] : 0.0;
        }
        if (dKernel != null) {
            double[] dw = new double[n * out];
            for (int i = 0; i < n; i++) {
                for (int ch = 0; ch < out; ch++) {
                    int k = i * out + ch;
                    dw[k] = (gv[k] - gMean[ch]) * c.scale()[ch] - coef[ch] * c.centred()[k];
                }
            }
            INDArray dwArr = Nd4j.create(dKernel.dataType(), dKernel.shape(), 'c');
            HostArrays.write(dwArr, dw);
            if (dKernelIsZero) {
                dKernel.assign(dwArr);
            } else {
                dKernel.addi(dwArr);
            }
        }
        INDArray dGainArr = Nd4j.create(dStandardized.dataType(), new long[] {out}, 'c');
        HostArrays.write(dGainArr, dGain);
        return dGainArr;
    }

    private static double round(boolean toFloat, double v) {
        return toFloat ? (float) v : v;
    }
}
