package dev.nfnets.layers.kernels;

import dev.nfnets.layers.HostArrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Small tensors entirely on the host: one copy of the weights and the gradient in, the column norms and
 * the rescaling in double precision, one copy of the gradient out (only when a unit was clipped).
 */
public final class HostAgcClip implements AgcClipKernel {
    static final HostAgcClip INSTANCE = new HostAgcClip();

    @Override
    public String name() {
        return "host";
    }

    @Override
    public Clip clip(INDArray value, INDArray grad, int rows, int cols, double clipping, double eps) {
        double[] w = HostArrays.read(value);
        double[] g = HostArrays.read(grad);
        double[] pn = new double[cols];
        double[] gn = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int k = r * cols + c;
                pn[c] += w[k] * w[k];
                gn[c] += g[k] * g[k];
            }
        }
        double[] factor = new double[cols];
        Clip result = AgcClipKernel.factorsFromSquares(pn, gn, clipping, eps, factor);
        if (result.clippedUnits() > 0) {
            for (int k = 0; k < g.length; k++) {
                g[k] *= factor[k % cols];
            }
            HostArrays.write(grad, g);
        }
        return result;
    }
}
