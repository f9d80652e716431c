package dev.nfnets.train.data;

import java.util.Arrays;

/**
 * Per-channel affine normalisation of pixel values on the 0..255 scale: {@code y = (x - mean[c]) / std[c]}.
 *
 * <p>Both constants are in 0..255 units, so the NFNet reference normalisation is
 * {@code mean = 255*[0.485,0.456,0.406]}, {@code std = 255*[0.229,0.224,0.225]}, and "x/255 then
 * (x - 0.2860)/0.3530" (Fashion-MNIST) is {@code mean = 255*0.2860}, {@code std = 255*0.3530}. A single
 * mean/std pair applies to every channel.
 *
 * @param mean per-channel mean (length 1 or C)
 * @param std  per-channel standard deviation (length of {@code mean}, all positive)
 */
public record Normalization(float[] mean, float[] std) implements java.io.Serializable {
    /** NFNet reference (ImageNet statistics, RGB, 255-scaled). */
    public static final Normalization IMAGENET = new Normalization(
            new float[] {255f * 0.485f, 255f * 0.456f, 255f * 0.406f},
            new float[] {255f * 0.229f, 255f * 0.224f, 255f * 0.225f});

    /** Fashion-MNIST statistics: x/255, minus 0.2860, divided by 0.3530. */
    public static final Normalization FASHION_MNIST = new Normalization(
            new float[] {255f * 0.2860f}, new float[] {255f * 0.3530f});

    public Normalization {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("mean and std must have the same non-zero length, got "
                    + mean.length + " and " + std.length);
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("std must be positive: " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** The identity map for any number of channels (mean 0, std 1): values stay on the 0..255 scale. */
    public static Normalization identity() {
        return new Normalization(new float[] {0f}, new float[] {1f});
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Mean of {@code channel} (the single mean when one is given for all channels). */
    public float meanOf(int channel) {
        return mean[mean.length == 1 ? 0 : channel];
    }

    /** Std of {@code channel}. */
    public float stdOf(int channel) {
        return std[std.length == 1 ? 0 : channel];
    }

    /** Normalised value of the 0..255 pixel value {@code x} in {@code channel}. */
    public float normalize(int channel, float x) {
        return (x - meanOf(channel)) / stdOf(channel);
    }

    /** 0..255 pixel value of the normalised value {@code y} in {@code channel}. */
    public float denormalize(int channel, float y) {
        return y * stdOf(channel) + meanOf(channel);
    }

    /** Normalises a CHW image with {@code channels} planes of {@code plane} values in place. */
    public void normalizeInPlace(float[] chw, int channels, int plane) {
        checkChannels(channels);
        for (int c = 0; c < channels; c++) {
            float m = meanOf(c);
            float s = stdOf(c);
            for (int i = c * plane, e = i + plane; i < e; i++) {
                chw[i] = (chw[i] - m) / s;
            }
        }
    }

    /** Inverse of {@link #normalizeInPlace}: back to the 0..255 scale, in place. */
    public void denormalizeInPlace(float[] chw, int channels, int plane) {
        checkChannels(channels);
        for (int c = 0; c < channels; c++) {
            float m = meanOf(c);
            float s = stdOf(c);
            for (int i = c * plane, e = i + plane; i < e; i++) {
                chw[i] = chw[i] * s + m;
            }
        }
    }

    private void checkChannels(int channels) {
        if (mean.length != 1 && mean.length != channels) {
            throw new IllegalArgumentException("normalisation has " + mean.length + " channels, image has " + channels);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Normalization[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
