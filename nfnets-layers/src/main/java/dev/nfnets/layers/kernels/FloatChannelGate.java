package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

/**
 * Dense FLOAT arrays: each backward step is one pass over the activations' planes, split over the cores by
 * {@link FloatKernels}, with row copies the JIT vectorises; arrays that are not dense are copied first.
 */
public final class FloatChannelGate implements ChannelGateKernel {
    FloatChannelGate() {
    }

    @Override
    public String name() {
        return "float";
    }

    @Override
    public INDArray gateGradient(INDArray x, INDArray dy, double scale, NFNetsOptions o) {
        int planes = (int) (x.size(0) * x.size(1));
        int plane = (int) (x.size(2) * x.size(3));
        FloatBuffer xb = FloatKernels.floats(dense(x));
        FloatBuffer gb = FloatKernels.floats(dense(dy));
        float[] dGate = new float[planes];
        float s = (float) scale;
        FloatKernels.parallel(planes, 2L * x.length(), (p0, p1) -> {
            float[] xa = new float[plane];
            float[] ga = new float[plane];
            for (int p = p0; p < p1; p++) {
                xb.get(p * plane, xa, 0, plane);
                gb.get(p * plane, ga, 0, plane);
                dGate[p] = (float) (FloatKernels.dot(xa, ga, plane) * s);
            }
        });
        return Nd4j.create(dGate, new long[] {x.size(0), x.size(1)}, DataType.FLOAT);
    }

    @Override
    public INDArray inputGradient(INDArray dy, INDArray gate, INDArray dPooled, NFNetsOptions o) {
        int planes = (int) (dy.size(0) * dy.size(1));
        int plane = (int) (dy.size(2) * dy.size(3));
        FloatBuffer gb = FloatKernels.floats(dense(dy));
        FloatBuffer sb = FloatKernels.floats(dense(gate));
        float[] dpool = dPooled.castTo(DataType.FLOAT).reshape(planes).toFloatVector();
        INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, dy.shape(), 'c');
        FloatBuffer db = FloatKernels.floats(dx);
        float inv = 1f / plane;
        FloatKernels.parallel(planes, 2L * dy.length(), (p0, p1) -> {
            float[] ga = new float[plane];
            for (int p = p0; p < p1; p++) {
                gb.get(p * plane, ga, 0, plane);
                float s = sb.get(p);
                float add = dpool[p] * inv;
                for (int i = 0; i < plane; i++) {
                    ga[i] = ga[i] * s + add;
                }
                db.put(p * plane, ga, 0, plane);
            }
        });
        return dx;
    }

    private static INDArray dense(INDArray a) {
        return FloatKernels.dense(a) ? a : a.castTo(DataType.FLOAT).dup('c');
    }
}
