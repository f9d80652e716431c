package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/** Dense FLOAT arrays: each channel's planes summed in double in one pass, the channels split over the cores. */
public final class FloatChannelSum implements ChannelSumKernel {
    FloatChannelSum() {
    }

    @Override
    public String name() {
        return "float";
    }

    @Override
    public void accumulate(INDArray a, INDArray into, NFNetsOptions o) {
        int n = (int) a.size(0);
        int c = (int) a.size(1);
        int plane = (int) (a.size(2) * a.size(3));
        FloatBuffer g = FloatKernels.floats(a);
        FloatBuffer db = FloatKernels.floats(into);
        FloatKernels.parallel(c, a.length(), (c0, c1) -> {
            float[] p = new float[plane];
            for (int ch = c0; ch < c1; ch++) {
                double sum = 0;
                for (int b = 0; b < n; b++) {
                    g.get((b * c + ch) * plane, p, 0, plane);
                    sum += FloatKernels.sum(p, plane);
                }
                db.put(ch, (float) (db.get(ch) + sum));
            }
        });
    }
}
