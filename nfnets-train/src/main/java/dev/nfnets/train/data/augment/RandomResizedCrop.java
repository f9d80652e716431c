package dev.nfnets.train.data.augment;

import java.util.SplittableRandom;

/**
 * The Inception-style crop of the NFNet reference ({@code tf.image.sample_distorted_bounding_box} with the
 * whole image as the object): up to {@code attempts} tries to find a crop whose area is a fraction in
 * {@code [minScale, maxScale]} of the image, whose aspect ratio (width/height) is in
 * {@code [minRatio, maxRatio]} and which covers at least {@code minObjectCovered} of the image; the crop is
 * then resized to {@code outH x outW}. When every attempt fails, the fallback is the reference's padded
 * centre crop: a centred square of side {@code floor(min(H, W) * outH / (outH + 32))}, resized likewise.
 *
 * <p>One attempt, as TF does it: draw the aspect ratio {@code r} uniformly; the crop height is an integer
 * drawn uniformly between {@code round(sqrt(minArea / r))} and {@code round(sqrt(maxArea / r))} (the latter
 * capped so the width fits), the width is {@code round(h * r)}, and the attempt fails if the area is out of
 * range after a one-pixel correction or the crop does not fit. The offset is uniform over the positions
 * that fit ({@code [0, H - h)}, {@code [0, W - w)}, or 0 when the crop spans the axis).
 *
 * <p>Defaults: scale [0.08, 1], ratio [3/4, 4/3], 10 attempts, min object covered 0.1, bicubic.
 */
public final class RandomResizedCrop implements Augmentation {
    private final int outH;
    private final int outW;
    private final Interpolation interpolation;
    private final double minScale;
    private final double maxScale;
    private final double minRatio;
    private final double maxRatio;
    private final int attempts;
    private final double minObjectCovered;

    /** Square output {@code size x size} with the reference defaults and bicubic resizing. */
    public RandomResizedCrop(int size) {
        this(size, size, Interpolation.BICUBIC);
    }

    /** Reference defaults with the given output size and interpolation. */
    public RandomResizedCrop(int outH, int outW, Interpolation interpolation) {
        this(outH, outW, interpolation, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, 10, 0.1);
    }

    /** Every parameter explicit. */
    public RandomResizedCrop(int outH, int outW, Interpolation interpolation, double minScale, double maxScale,
                             double minRatio, double maxRatio, int attempts, double minObjectCovered) {
        if (outH <= 0 || outW <= 0) {
            throw new IllegalArgumentException("output size must be positive, got " + outH + "x" + outW);
        }
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1)) {
            throw new IllegalArgumentException("need 0 < minScale <= maxScale <= 1, got " + minScale + ", " + maxScale);
        }
        if (!(minRatio > 0 && minRatio <= maxRatio)) {
            throw new IllegalArgumentException("need 0 < minRatio <= maxRatio, got " + minRatio + ", " + maxRatio);
        }
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be >= 1, got " + attempts);
        }
        this.outH = outH;
        this.outW = outW;
        this.interpolation = java.util.Objects.requireNonNull(interpolation, "interpolation");
        this.minScale = minScale;
        this.maxScale = maxScale;
        this.minRatio = minRatio;
        this.maxRatio = maxRatio;
        this.attempts = attempts;
        this.minObjectCovered = minObjectCovered;
    }

    /** A crop rectangle {@code [y, y+h) x [x, x+w)}; {@code fallback} when it is the centre crop. */
    public record Crop(int y, int x, int h, int w, boolean fallback) {
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom rng) {
        Crop c = sample(image.height(), image.width(), rng);
        return Resize.cropResize(image, c.y(), c.x(), c.h(), c.w(), outH, outW, interpolation);
    }

    @Override
    public int[] outputShape(int c, int h, int w) {
        return new int[] {c, outH, outW};
    }

    /** Draws the crop for an {@code h x w} image (exposed for tests and for callers that crop themselves). */
    public Crop sample(int h, int w, SplittableRandom rng) {
        double imageArea = (double) h * w;
        double minArea = minScale * imageArea;
        double maxArea = maxScale * imageArea;
        for (int a = 0; a < attempts; a++) {
            double ratio = minRatio + rng.nextDouble() * (maxRatio - minRatio);
            Crop c = tryCrop(h, w, minArea, maxArea, ratio, rng);
            if (c != null && (double) c.h() * c.w() >= minObjectCovered * imageArea) {
                return c;
            }
        }
        int side = (int) (((double) outH / (outH + 32)) * Math.min(h, w));
        side = Math.max(1, side);
        return new Crop(((h - side) + 1) / 2, ((w - side) + 1) / 2, side, side, true);
    }

    private static Crop tryCrop(int imgH, int imgW, double minArea, double maxArea, double ratio,
                                SplittableRandom rng) {
        int height = (int) Math.round(Math.sqrt(minArea / ratio));
        int maxHeight = (int) Math.round(Math.sqrt(maxArea / ratio));
        if (Math.round(maxHeight * ratio) > imgW) {
            maxHeight = (int) ((imgW + 0.5 - 1e-7) / ratio);
        }
        maxHeight = Math.min(maxHeight, imgH);
        height = Math.min(height, maxHeight);
        if (height < maxHeight) {
            height += rng.nextInt(maxHeight - height + 1);
        }
        int width = (int) Math.round(height * ratio);
        double area = (double) width * height;
        if (area < minArea) {
            height += 1;
            width = (int) Math.round(height * ratio);
            area = (double) width * height;
        }
        if (area > maxArea) {
            height -= 1;
            width = (int) Math.round(height * ratio);
            area = (double) width * height;
        }
        if (area < minArea || area > maxArea || width > imgW || height > imgH || width <= 0 || height <= 0) {
            return null;
        }
        int y = height < imgH ? rng.nextInt(imgH - height) : 0;
        int x = width < imgW ? rng.nextInt(imgW - width) : 0;
        return new Crop(y, x, height, width, false);
    }

    @Override
    public String toString() {
        return "RandomResizedCrop(" + outH + "x" + outW + ", " + interpolation + ", scale [" + minScale + ","
                + maxScale + "], ratio [" + minRatio + "," + maxRatio + "], attempts " + attempts + ")";
    }
}
