package dev.nfnets.layers;

/**
 * Spatial padding rules. {@link #SAME} is TensorFlow/XLA SAME, as the NFNet reference uses: output size
 * {@code ceil(n/s)}, total padding {@code max((ceil(n/s)-1)*s + k - n, 0)}, the smaller half before
 * (top/left) and the rest after. On a 3x3 stride-2 convolution over an even size this pads (0, 1).
 */
public enum Padding {
    SAME,
    VALID;

    public long outputSize(long n, int k, int s) {
        if (n < 0) {
            return -1;
        }
        return this == SAME ? (n + s - 1) / s : Math.max(0, (n - k) / s + 1);
    }

    /** Padding before (index 0) and after (index 1) for one spatial dimension. */
    public int[] pads(long n, int k, int s) {
        if (this == VALID) {
            return new int[] {0, 0};
        }
        long out = outputSize(n, k, s);
        int total = (int) Math.max((out - 1) * s + k - n, 0);
        return new int[] {total / 2, total - total / 2};
    }
}
