package dev.nfnets.layers.kernels;

import dev.nfnets.layers.ChannelBlocks;
import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * Dense FLOAT arrays: each channel's planes summed in double in one pass, the channels split over the cores; blocked
 * arrays ({@link ChannelBlocks}) by blocks of 16 channels, with the same sums.
 */
public final class FloatChannelSum implements ChannelSumKernel {
    FloatChannelSum() {
    }

    @Override
    public String name() {
        return "float";
    }

    @Override
    public void accumulate(INDArray a, INDArray into, NFNetsOptions o) {
        if (ChannelBlocks.is(a)) {
            accumulateBlocked(a, into);
            return;
        }
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

    /**
     * The same sums over a blocked {@code (N, C/16, H, W, 16)} array: each channel's plane gathered from its block
     * into the order the NCHW pass reads it, then summed the same way, so the bits are the same.
     */
    private static void accumulateBlocked(INDArray a, INDArray into) {
        int n = (int) a.size(0);
        int blocks = (int) a.size(1);
        int plane = (int) (a.size(2) * a.size(3));
        int lanes = ChannelBlocks.BLOCK;
        FloatBuffer g = FloatKernels.floats(a);
        FloatBuffer db = FloatKernels.floats(into);
        FloatKernels.parallel(blocks, a.length(), (b0, b1) -> {
            float[] block = new float[plane * lanes];
            float[] p = new float[plane];
            double[] sums = new double[lanes];
            for (int cb = b0; cb < b1; cb++) {
                java.util.Arrays.fill(sums, 0.0);
                for (int b = 0; b < n; b++) {
                    g.get((b * blocks + cb) * plane * lanes, block, 0, plane * lanes);
                    for (int l = 0; l < lanes; l++) {
                        for (int i = 0; i < plane; i++) {
                            p[i] = block[i * lanes + l];
                        }
                        sums[l] += FloatKernels.sum(p, plane);
                    }
                }
                for (int l = 0; l < lanes; l++) {
                    int ch = cb * lanes + l;
                    db.put(ch, (float) (db.get(ch) + sums[l]));
                }
            }
        });
    }
}
