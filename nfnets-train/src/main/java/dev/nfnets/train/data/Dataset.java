package dev.nfnets.train.data;

import dev.nfnets.train.data.augment.FloatImage;
import java.util.List;

/**
 * A random-access, labelled image dataset whose examples all have the same shape {@code (C, H, W)}.
 *
 * <p>{@link #get(int, float[])} writes one example, already converted to float and normalised with
 * {@link #normalization()}, into a caller-owned buffer in CHW order. Implementations must be safe to call
 * from several threads at once (the {@link BatchLoader} may decode in parallel).
 */
public interface Dataset {
    /** Number of examples. */
    int size();

    /** Number of classes K; labels are in {@code [0, K)}. */
    int numClasses();

    /** Channels C of every example. */
    int channels();

    /** Height H of every example. */
    int height();

    /** Width W of every example. */
    int width();

    /** Class names, index = label. */
    List<String> classNames();

    /**
     * Writes example {@code index} as float CHW into {@code dstCHW[0 .. C*H*W)}, values normalised with
     * {@link #normalization()}.
     *
     * @throws IndexOutOfBoundsException when {@code index} is not in {@code [0, size())}
     * @throws IllegalArgumentException  when {@code dstCHW} is shorter than {@code C*H*W}
     */
    void get(int index, float[] dstCHW);

    /** The label of example {@code index}. */
    int label(int index);

    /** A one-line human description (what, where from, how many examples). */
    String description();

    /**
     * How {@link #get} maps 0..255 pixel values to the returned floats; augmentations that work in pixel
     * space (RandAugment) use it to go back and forth.
     */
    Normalization normalization();

    /**
     * Example {@code index} at its stored size, normalised like {@link #get}: for datasets whose
     * {@link #get} resizes and crops (image folders) this is the full decoded image, whose size varies;
     * for the others (the default) it is exactly what {@link #get} returns.
     */
    default FloatImage original(int index) {
        float[] buf = new float[exampleLength()];
        get(index, buf);
        return new FloatImage(buf, channels(), height(), width());
    }

    /** {@code C*H*W}: the length of one example. */
    default int exampleLength() {
        return channels() * height() * width();
    }

    /** Number of examples of each class. */
    default int[] labelCounts() {
        int[] counts = new int[numClasses()];
        for (int i = 0, n = size(); i < n; i++) {
            counts[label(i)]++;
        }
        return counts;
    }
}
