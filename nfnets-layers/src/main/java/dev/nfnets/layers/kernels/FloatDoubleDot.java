package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * Dense FLOAT arrays: one pass over both, in fixed chunks of 16384 elements split over the cores, each chunk's
 * products summed in double, the chunks' sums added in order.
 */
public final class FloatDoubleDot implements DoubleDotKernel {
    FloatDoubleDot() {
    }

    @Override
    public String name() {
        return "float";
    }

    @Override
    public double dot(INDArray a, INDArray b, NFNetsOptions o) {
        FloatBuffer x = FloatKernels.floats(a);
        FloatBuffer y = FloatKernels.floats(b);
        int n = (int) a.length();
        int chunk = 1 << 14;
        int chunks = (n + chunk - 1) / chunk;
        double[] parts = new double[chunks];
        // fixed chunks summed in order: the result does not depend on the thread count
        FloatKernels.parallel(chunks, n, (c0, c1) -> {
            float[] xr = new float[chunk];
            float[] yr = new float[chunk];
            for (int c = c0; c < c1; c++) {
                int from = c * chunk;
                int len = Math.min(chunk, n - from);
                x.get(from, xr, 0, len);
                y.get(from, yr, 0, len);
                double s0 = 0;
                double s1 = 0;
                int i = 0;
                for (; i + 1 < len; i += 2) {
                    s0 += (double) xr[i] * yr[i];
                    s1 += (double) xr[i + 1] * yr[i + 1];
                }
                if (i < len) {
                    s0 += (double) xr[i] * yr[i];
                }
                parts[c] = s0 + s1;
            }
        });
        double sum = 0;
        for (double p : parts) {
            sum += p;
        }
        return sum;
    }
}
