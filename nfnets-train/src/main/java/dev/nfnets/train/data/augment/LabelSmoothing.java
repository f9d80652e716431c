package dev.nfnets.train.data.augment;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Label smoothing as in the NFNet reference: {@code y' = (1 - eps) * y + eps / K}, applied after
 * MixUp/CutMix label mixing. Rows that sum to 1 keep summing to 1.
 */
public final class LabelSmoothing {
    private LabelSmoothing() {
    }

    /** A new {@code (N, K)} array {@code (1 - eps) * targets + eps / K}. */
    public static INDArray smooth(INDArray targets, double eps) {
        check(eps);
        if (targets.rank() != 2) {
            throw new IllegalArgumentException("targets must be (N,K), got rank " + targets.rank());
        }
        long k = targets.size(1);
        return targets.mul(1.0 - eps).addi(eps / k);
    }

    /** In place on {@code N*K} floats laid out row by row. */
    public static void smoothInPlace(float[] targets, int numClasses, double eps) {
        check(eps);
        if (numClasses <= 0 || targets.length % numClasses != 0) {
            throw new IllegalArgumentException(targets.length + " targets are not rows of " + numClasses);
        }
        float keep = (float) (1.0 - eps);
        float add = (float) (eps / numClasses);
        for (int i = 0; i < targets.length; i++) {
            targets[i] = keep * targets[i] + add;
        }
    }

    private static void check(double eps) {
        if (!(eps >= 0 && eps <= 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0,1], got " + eps);
        }
    }
}
