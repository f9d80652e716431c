package dev.nfnets.train.data;

import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One mini-batch ready for the model.
 *
 * @param images  {@code (N, C, H, W)} float32, normalised as the dataset defines
 * @param targets {@code (N, K)} float32 soft labels: one-hot for plain examples, mixed weights after
 *                MixUp/CutMix, smoothed when label smoothing is on; each row sums to 1
 * @param labels  hard labels, length N, for accuracy; for a mixed example the dominant one (the label
 *                with weight at least 0.5)
 */
public record Batch(INDArray images, INDArray targets, int[] labels) {
    public Batch {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(targets, "targets");
        Objects.requireNonNull(labels, "labels");
        if (images.rank() != 4) {
            throw new IllegalArgumentException("images must be (N,C,H,W), got rank " + images.rank());
        }
        if (targets.rank() != 2) {
            throw new IllegalArgumentException("targets must be (N,K), got rank " + targets.rank());
        }
        long n = images.size(0);
        if (targets.size(0) != n || labels.length != n) {
            throw new IllegalArgumentException("batch size mismatch: images " + n + ", targets "
                    + targets.size(0) + ", labels " + labels.length);
        }
    }

    /** Number of examples N. */
    public int size() {
        return labels.length;
    }
}
