package dev.nfnets.layers.kernels;

import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SGD for small whole FLOAT or DOUBLE arrays in one host loop ({@link HostArrays}).
 *
 * <p>The same update for a small parameter in one host loop (double precision, rounded once per array):
 * three bulk copies in and three out instead of four native ops. The gradient buffer ends up holding
 * the update, as on the native path.
 */
public final class HostSgdUpdate implements SgdUpdateKernel {
    @Override
    public String name() {
        return "host";
    }

    @Override
    public void update(INDArray wArr, INDArray gArr, INDArray bufArr, double lr, double momentum, boolean nesterov,
                       double wd, NFNetsOptions options) {
        double[] w = HostArrays.read(wArr);
        double[] g = HostArrays.read(gArr);
        double[] buf = bufArr == null ? null : HostArrays.read(bufArr);
        for (int i = 0; i < w.length; i++) {
            double gi = g[i] + wd * w[i];
            double u = gi;
            if (buf != null) {
                buf[i] = momentum * buf[i] + gi;
                u = nesterov ? gi + momentum * buf[i] : buf[i];
            }
            g[i] = u;
            w[i] -= lr * u;
        }
        HostArrays.write(wArr, w);
        HostArrays.write(gArr, g);
        if (buf != null) {
            HostArrays.write(bufArr, buf);
        }
    }
}
