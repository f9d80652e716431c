package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * SGD for large dense FLOAT arrays in one vectorised pass over native memory ({@link FloatKernels}).
 *
 * <p>Large FLOAT parameters: the same update in one pass over the weights, gradient and momentum buffer
 * ({@link FloatKernels}) instead of five in-place ops.
 * The gradient buffer is left as it was.
 */
public final class FloatSgdUpdate implements SgdUpdateKernel {
    @Override
    public String name() {
        return "float";
    }

    @Override
    public void update(INDArray wArr, INDArray gArr, INDArray bufArr, double lr, double momentum, boolean nesterov,
                       double weightDecay, NFNetsOptions options) {
        FloatBuffer w = FloatKernels.floats(wArr);
        FloatBuffer g = FloatKernels.floats(gArr);
        FloatBuffer b = bufArr == null ? null : FloatKernels.floats(bufArr);
        // float arithmetic, as the native ops do: the JIT vectorises it (twice as fast as double here)
        float wd = (float) weightDecay;
        float m = (float) momentum;
        float step = (float) lr;
        boolean nest = nesterov;
        int n = (int) wArr.length();
        // chunks through Java arrays ({@link FloatKernels#map}): loops the JIT vectorises
        if (b == null) {
            FloatKernels.map(n, new FloatBuffer[] {w, g}, new FloatBuffer[] {w}, (in, out, d, len) -> {
                float[] wa = in[0];
                float[] ga = in[1];
                float[] wo = out[0];
                for (int i = 0; i < len; i++) {
                    float wi = wa[i];
                    wo[i] = wi - step * (ga[i] + wd * wi);
                }
            });
        } else {
            FloatKernels.map(n, new FloatBuffer[] {w, g, b}, new FloatBuffer[] {w, b}, (in, out, d, len) -> {
                float[] wa = in[0];
                float[] ga = in[1];
                float[] ba = in[2];
                float[] wo = out[0];
                float[] bo = out[1];
                for (int i = 0; i < len; i++) { // the JIT unswitches the loop-invariant branch
                    float wi = wa[i];
                    float gi = ga[i] + wd * wi;
                    float bi = m * ba[i] + gi;
                    bo[i] = bi;
                    wo[i] = wi - step * (nest ? gi + m * bi : bi);
                }
            });
        }
    }
}
