package dev.nfnets.core.inference;

import dev.nfnets.core.NFNetConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Turns an image into the model's input: squash-resize to {@code resizeSize x resizeSize} with TF2 bicubic
 * ({@link TfResize}), centre crop {@code size x size} at offset {@code (resizeSize - size + 1) / 2}, then
 * {@code (x - mean[c]) / std[c]} with both constants on the 0..255 scale; output NCHW float32.
 *
 * <ul>
 *   <li>{@link #imagenet(int)} is the NFNet reference evaluation (spec section 8.1,
 *       {@code eval_preproc='resize_crop_32'}): resize to S+32, crop S (offset 16), ImageNet mean/std, RGB.</li>
 *   <li>{@link #grayscale(int)} is the one-channel variant for Fashion-MNIST-style models: resize to S, no
 *       crop, {@code x/255} then {@code (x - 0.2860) / 0.3530}.</li>
 * </ul>
 * The remaining differences from the reference are the JPEG decoder (ImageIO vs libjpeg in TF) and float
 * summation order; both move pixels by far less than one grey level.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * <pre>{@code
 * Preprocessing pre = Preprocessing.forConfig(NFNetConfig.f0());   // 288 -> 256
 * INDArray x = pre.apply(Path.of("cat.jpg"));                       // (1, 3, 256, 256)
 * }</pre>
 */
public final class Preprocessing {
    /** ImageNet mean on the 0..255 scale, RGB (= 255 * [0.485, 0.456, 0.406]). */
    private static final float[] IMAGENET_MEAN = {255f * 0.485f, 255f * 0.456f, 255f * 0.406f};
    /** ImageNet std on the 0..255 scale, RGB (= 255 * [0.229, 0.224, 0.225]). */
    private static final float[] IMAGENET_STD = {255f * 0.229f, 255f * 0.224f, 255f * 0.225f};
    private static final float[] FASHION_MNIST_MEAN = {255f * 0.2860f};
    private static final float[] FASHION_MNIST_STD = {255f * 0.3530f};
    /** The reference resizes to S + 32 before the centre crop. */
    public static final int REFERENCE_MARGIN = 32;

    private final int size;
    private final int resizeSize;
    private final float[] mean;
    private final float[] std;

    private Preprocessing(int size, int resizeSize, float[] mean, float[] std) {
        if (size <= 0 || resizeSize < size) {
            throw new IllegalArgumentException("need 0 < size <= resizeSize, got size " + size + ", resizeSize "
                    + resizeSize);
        }
        if (mean.length != 1 && mean.length != 3 || std.length != mean.length) {
            throw new IllegalArgumentException("mean and std must both have 1 (grey) or 3 (RGB) entries, got "
                    + mean.length + " and " + std.length);
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("std must be positive: " + Arrays.toString(std));
            }
        }
        this.size = size;
        this.resizeSize = resizeSize;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    /** The reference NFNet evaluation at input size {@code size}: resize to size+32, centre crop, ImageNet stats. */
    public static Preprocessing imagenet(int size) {
        return new Preprocessing(size, size + REFERENCE_MARGIN, IMAGENET_MEAN, IMAGENET_STD);
    }

    /** One channel, resize to {@code size} without crop, Fashion-MNIST statistics. */
    public static Preprocessing grayscale(int size) {
        return new Preprocessing(size, size, FASHION_MNIST_MEAN, FASHION_MNIST_STD);
    }

    /**
     * A custom pipeline: resize to {@code resizeSize}, centre crop {@code size}, normalise with per-channel
     * {@code mean} and {@code std} on the 0..255 scale; the number of channels (1 or 3) is {@code mean.length}.
     */
    public static Preprocessing of(int size, int resizeSize, float[] mean, float[] std) {
        return new Preprocessing(size, resizeSize, mean, std);
    }

    /** {@link #grayscale} at the config's test size for one-channel models, else {@link #imagenet}. */
    public static Preprocessing forConfig(NFNetConfig config) {
        int in = config.inChannels();
        if (in == 1) {
            return grayscale(config.testSize());
        }
        if (in == 3) {
            return imagenet(config.testSize());
        }
        throw new IllegalArgumentException("model '" + config.name() + "' takes " + in
                + " input channels; image preprocessing exists for 1 (grey) and 3 (RGB)");
    }

    /** Output height and width. */
    public int size() {
        return size;
    }

    /** Side of the square the image is squashed to before the centre crop. */
    public int resizeSize() {
        return resizeSize;
    }

    /** 1 (grey) or 3 (RGB). */
    public int channels() {
        return mean.length;
    }

    /** Offset of the centre crop on both axes: {@code (resizeSize - size + 1) / 2}. */
    public int cropOffset() {
        return (resizeSize - size + 1) / 2;
    }

    public float[] mean() {
        return mean.clone();
    }

    public float[] std() {
        return std.clone();
    }

    /** The normalised CHW pixels of {@code image}: {@code channels() * size() * size()} floats. */
    public float[] pixels(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        int c = channels();
        float[] src = c == 1 ? Images.grey(image) : Images.rgb(image);
        int off = cropOffset();
        float[] out = TfResize.resample(src, c, image.getHeight(), image.getWidth(),
                TfResize.Box.whole(image.getHeight(), image.getWidth()), resizeSize, resizeSize,
                new TfResize.Box(off, off, size, size), TfResize.Method.BICUBIC);
        int plane = size * size;
        for (int ch = 0; ch < c; ch++) {
            float m = mean[ch];
            float s = std[ch];
            for (int i = ch * plane, end = i + plane; i < end; i++) {
                out[i] = (out[i] - m) / s;
            }
        }
        return out;
    }

    /** {@code image} as a {@code (1, channels, size, size)} float array. */
    public INDArray apply(BufferedImage image) {
        return Nd4j.create(pixels(image), new long[] {1, channels(), size, size}, DataType.FLOAT);
    }

    /** Decodes {@code file} ({@link Images#read}) and preprocesses it; the IOException names the file. */
    public INDArray apply(Path file) throws IOException {
        return apply(Images.read(file));
    }

    /** Several images stacked into one {@code (N, channels, size, size)} batch. */
    public INDArray applyAll(List<BufferedImage> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to preprocess");
        }
        int n = channels() * size * size;
        float[] batch = new float[images.size() * n];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(pixels(images.get(i)), 0, batch, i * n, n);
        }
        return Nd4j.create(batch, new long[] {images.size(), channels(), size, size}, DataType.FLOAT);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocessing p && p.size == size && p.resizeSize == resizeSize
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
    }

    @Override
    public int hashCode() {
        return Objects.hash(size, resizeSize, Arrays.hashCode(mean), Arrays.hashCode(std));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Preprocessing[%s, resize %dx%d bicubic, crop %dx%d at %d, mean %s, std %s]",
                channels() == 1 ? "grey" : "RGB", resizeSize, resizeSize, size, size, cropOffset(),
                Arrays.toString(mean), Arrays.toString(std));
    }
}
