package dev.nfnets.train.data;

import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A batch in Java heap arrays, before it becomes a {@link Batch} of INDArrays: what augmentations and
 * MixUp/CutMix work on.
 *
 * @param images     N*C*H*W floats, example-major, CHW inside
 * @param targets    N*K floats, soft labels per example
 * @param labels     N hard labels
 * @param channels   C
 * @param height     H
 * @param width      W
 * @param numClasses K
 */
public record HostBatch(float[] images, float[] targets, int[] labels, int channels, int height, int width,
                        int numClasses) {
    public HostBatch {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(targets, "targets");
        Objects.requireNonNull(labels, "labels");
        long n = labels.length;
        if (images.length != n * channels * height * width) {
            throw new IllegalArgumentException("images hold " + images.length + " floats, expected " + n + "x"
                    + channels + "x" + height + "x" + width);
        }
        if (targets.length != n * numClasses) {
            throw new IllegalArgumentException("targets hold " + targets.length + " floats, expected " + n + "x"
                    + numClasses);
        }
    }

    /** A zero batch of {@code n} examples. */
    public static HostBatch allocate(int n, int channels, int height, int width, int numClasses) {
        return new HostBatch(new float[n * channels * height * width], new float[n * numClasses], new int[n],
                channels, height, width, numClasses);
    }

    /** Number of examples N. */
    public int size() {
        return labels.length;
    }

    /** C*H*W. */
    public int exampleLength() {
        return channels * height * width;
    }

    /** Sets example {@code i}'s hard label and makes its target the one-hot vector of it. */
    public void setOneHot(int i, int label) {
        Objects.checkIndex(label, numClasses);
        labels[i] = label;
        int off = i * numClasses;
        java.util.Arrays.fill(targets, off, off + numClasses, 0f);
        targets[off + label] = 1f;
    }

    /**
     * Copies into INDArrays ({@code (N,C,H,W)} and {@code (N,K)} float32), allocated outside any workspace
     * so that the batch may outlive whatever scope is open on the calling thread.
     */
    @SuppressWarnings("try")
    public Batch toBatch() {
        int n = size();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray img = Nd4j.create(images, new long[] {n, channels, height, width}, DataType.FLOAT);
            INDArray tgt = Nd4j.create(targets, new long[] {n, numClasses}, DataType.FLOAT);
            return new Batch(img, tgt, labels.clone());
        }
    }

    /** The heap copy of a {@link Batch}. */
    public static HostBatch of(Batch batch) {
        long[] s = batch.images().shape();
        float[] img = batch.images().dup('c').data().asFloat();
        float[] tgt = batch.targets().dup('c').data().asFloat();
        return new HostBatch(img, tgt, batch.labels().clone(), (int) s[1], (int) s[2], (int) s[3],
                (int) batch.targets().size(1));
    }
}
