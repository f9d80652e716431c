package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * Large FLOAT tensors: the column sums of squares of the weights and the gradient in one read-only pass
 * over their native memory each ({@link FloatKernels#columnSquares}), and a rescaling pass only when a unit
 * was clipped.
 */
public final class FloatAgcClip implements AgcClipKernel {
    static final FloatAgcClip INSTANCE = new FloatAgcClip();

    @Override
    public String name() {
        return "float";
    }

    @Override
    public Clip clip(INDArray value, INDArray grad, int rows, int cols, double clipping, double eps) {
        FloatBuffer w = FloatKernels.floats(value);
        FloatBuffer g = FloatKernels.floats(grad);
        double[] pn = new double[cols];
        double[] gn = new double[cols];
        FloatKernels.columnSquares(w, rows, cols, pn);
        FloatKernels.columnSquares(g, rows, cols, gn);
        double[] factor = new double[cols];
        Clip result = AgcClipKernel.factorsFromSquares(pn, gn, clipping, eps, factor);
        if (result.clippedUnits() > 0) {
            // row by row through Java arrays, in loops the JIT vectorises (float -> double, product, -> float)
            FloatKernels.parallel(rows, (long) rows * cols, (r0, r1) -> {
                float[] row = new float[cols];
                double[] d = new double[cols];
                for (int r = r0; r < r1; r++) {
                    g.get(r * cols, row, 0, cols);
                    for (int c = 0; c < cols; c++) {
                        d[c] = row[c];
                    }
                    for (int c = 0; c < cols; c++) {
                        d[c] *= factor[c];
                    }
                    for (int c = 0; c < cols; c++) {
                        row[c] = (float) d[c];
                    }
                    g.put(r * cols, row, 0, cols);
                }
            });
        }
        return result;
    }
}
