package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to compute adaptive gradient clipping's unit-wise norms and rescale for one tensor, seen as a c-order
 * {@code (rows, units)} matrix whose columns are the units: per unit, {@code w = max(||W_u||, eps)} and, where
 * {@code ||G_u|| > clipping * w}, {@code G_u *= clipping * w / max(||G_u||, 1e-6)} (in place). The factors
 * ({@link #factors}) are computed once for every implementation.
 *
 * <p>Implementations ({@link #choose} picks one per tensor from the options):
 * <ul>
 *   <li>{@link Nd4jAgcClip}: ND4J column norms (a GEMM against ones for large matrices) and a row-vector
 *       multiply; the reference implementation.</li>
 *   <li>{@link HostAgcClip}: small tensors in one double-precision host loop ({@code nfnets.hostMaxElements}).</li>
 *   <li>{@link FloatAgcClip}: large dense FLOAT tensors, column sums of squares in one read-only pass each and
 *       a rescaling pass only when a unit was clipped ({@code nfnets.floatKernels}).</li>
 * </ul>
 */
public interface AgcClipKernel {
    /** What clipping one tensor did: units, how many were clipped, the largest gradient/weight norm ratio. */
    record Clip(long units, long clippedUnits, double maxRatio) {
    }

    String name();

    /** Clips {@code grad} in place, unit-wise, against {@code value}, both seen as {@code (rows, cols)}. */
    Clip clip(INDArray value, INDArray grad, int rows, int cols, double clipping, double eps);

    /** The host loop for small whole arrays, the float passes for large dense FLOAT ones, else the ND4J ops. */
    static AgcClipKernel choose(INDArray value, INDArray grad, NFNetsOptions o) {
        if (HostArrays.eligible(o, value, grad)) {
            return HostAgcClip.INSTANCE;
        }
        if (FloatKernels.eligible(o, value, grad)) {
            return FloatAgcClip.INSTANCE;
        }
        return Nd4jAgcClip.INSTANCE;
    }

    /** {@link #factors} from per-unit sums of squares (turned into norms in place). */
    static Clip factorsFromSquares(double[] pSq, double[] gSq, double clipping, double eps, double[] factor) {
        for (int c = 0; c < pSq.length; c++) {
            pSq[c] = Math.sqrt(pSq[c]);
            gSq[c] = Math.sqrt(gSq[c]);
        }
        return factors(pSq, gSq, clipping, eps, factor);
    }

    /** Per-unit rescaling factors (1 where a unit is not clipped) and the statistics of one tensor. */
    static Clip factors(double[] pn, double[] gn, double clipping, double eps, double[] factor) {
        long clippedUnits = 0;
        double ratio = 0;
        for (int i = 0; i < pn.length; i++) {
            double w = Math.max(pn[i], eps);
            double maxNorm = clipping * w;
            double r = gn[i] / w;
            if (r > ratio || Double.isNaN(r)) {
                ratio = Double.isNaN(ratio) ? ratio : r;
            }
            if (gn[i] > maxNorm) {
                factor[i] = maxNorm / Math.max(gn[i], 1e-6);
                clippedUnits++;
            } else {
                factor[i] = 1;
            }
        }
        return new Clip(pn.length, clippedUnits, ratio);
    }
}
