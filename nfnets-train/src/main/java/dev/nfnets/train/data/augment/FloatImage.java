package dev.nfnets.train.data.augment;

import java.util.Objects;

/**
 * A float image in CHW order: {@code data[(c * height + y) * width + x]}.
 *
 * <p>The array is shared, not copied: augmentations may change it in place and return the same object.
 */
public record FloatImage(float[] data, int channels, int height, int width) {
    public FloatImage {
        Objects.requireNonNull(data, "data");
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("bad image shape " + channels + "x" + height + "x" + width);
        }
        if (data.length != (long) channels * height * width) {
            throw new IllegalArgumentException("data has " + data.length + " values, shape " + channels + "x"
                    + height + "x" + width + " needs " + ((long) channels * height * width));
        }
    }

    /** A zero image of the given shape. */
    public static FloatImage zeros(int channels, int height, int width) {
        return new FloatImage(new float[channels * height * width], channels, height, width);
    }

    /** Pixels per channel plane. */
    public int plane() {
        return height * width;
    }

    /** The value at {@code (c, y, x)}. */
    public float get(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }

    /** Sets the value at {@code (c, y, x)}. */
    public void set(int c, int y, int x, float v) {
        data[(c * height + y) * width + x] = v;
    }

    /** A deep copy. */
    public FloatImage copy() {
        return new FloatImage(data.clone(), channels, height, width);
    }

    /** {@code [channels, height, width]}. */
    public int[] shape() {
        return new int[] {channels, height, width};
    }
}
