package dev.nfnets.core.inference;

import dev.nfnets.core.io.Limits;
import dev.nfnets.core.io.RegularFiles;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Objects;

/**
 * Decoding and pixel extraction: any {@link BufferedImage} to planar float pixels on the 0..255 scale.
 *
 * <p>Conversion rules, chosen to match what the reference pipeline ({@code tf.io.decode_image(channels=3)})
 * and PIL's {@code convert} would feed the model:
 * <ul>
 *   <li>grey images (8- or 16-bit, with or without alpha) are read from the raster, not through
 *       {@code getRGB}, which would push linear-grey values through an sRGB curve; 16-bit samples are scaled
 *       to 0..255 and rounded;</li>
 *   <li>alpha is discarded, keeping the un-premultiplied colour (what TF and PIL do when asked for RGB);</li>
 *   <li>every other type (indexed, packed, custom colour spaces) goes through {@code getRGB}, i.e. sRGB;</li>
 *   <li>colour to one channel uses the ITU-R 601-2 luma with PIL's integer rounding:
 *       {@code (19595 R + 38470 G + 7471 B + 32768) >> 16}.</li>
 * </ul>
 */
public final class Images {
    private Images() {
    }

    /**
     * Decodes an image file with ImageIO (JPEG, PNG, BMP, GIF out of the box). The width and height are read from
     * the header first: an image of more than {@link Limits#maxImagePixels()} pixels (a decompression bomb: a small
     * file that declares a huge canvas) is refused before anything is decoded.
     *
     * @throws IOException naming {@code file} when it is missing, not a regular file (a directory, a named pipe),
     *                     too large or cannot be decoded
     */
    public static BufferedImage read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        RegularFiles.require(file, "image file");
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new IOException(file + ": cannot open the image file");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException(file + ": not a decodable image (no ImageIO reader recognises its content)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                long limit = Limits.maxImagePixels();
                if (w <= 0 || h <= 0 || w * h > limit) {
                    throw new ImageTooLargeException(String.format(java.util.Locale.ROOT,
                            "%s: the image declares %d x %d = %,d pixels, more than the limit of %,d; refusing to decode it "
                                    + "(raise -D%s=PIXELS if it is genuine)", file, w, h, w * h, limit, Limits.MAX_IMAGE_PIXELS));
                }
                BufferedImage img = reader.read(0);
                if (img == null) {
                    throw new IOException(file + ": not a decodable image");
                }
                return img;
            } finally {
                reader.dispose();
            }
        } catch (ImageTooLargeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(file.toString())) {
                throw e;
            }
            throw new IOException(file + ": cannot decode image: " + e.getMessage(), e);
        }
    }

    /** An image whose header declares more pixels than {@link Limits#maxImagePixels()}. */
    public static final class ImageTooLargeException extends IOException {
        public ImageTooLargeException(String message) {
            super(message);
        }
    }

    /** The image as 3 planes R, G, B of {@code height x width} values in 0..255 (CHW). */
    public static float[] rgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int plane = w * h;
        float[] out = new float[3 * plane];
        if (isGrey(image)) {
            float[] g = greySamples(image);
            System.arraycopy(g, 0, out, 0, plane);
            System.arraycopy(g, 0, out, plane, plane);
            System.arraycopy(g, 0, out, 2 * plane, plane);
            return out;
        }
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int o = y * w + x;
                out[o] = (p >> 16) & 0xff;
                out[plane + o] = (p >> 8) & 0xff;
                out[2 * plane + o] = p & 0xff;
            }
        }
        return out;
    }

    /** The image as one plane of {@code height x width} grey values in 0..255. */
    public static float[] grey(BufferedImage image) {
        if (isGrey(image)) {
            return greySamples(image);
        }
        int w = image.getWidth();
        int h = image.getHeight();
        float[] out = new float[w * h];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                out[y * w + x] = luma((p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff);
            }
        }
        return out;
    }

    /** ITU-R 601-2 luma of an 8-bit RGB triple, rounded as PIL does. */
    static int luma(int r, int g, int b) {
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }

    private static boolean isGrey(BufferedImage image) {
        ColorModel cm = image.getColorModel();
        int bands = image.getRaster().getNumBands();
        return cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && (bands == 1 || bands == 2)
                && cm.getComponentSize(0) <= 16;
    }

    private static float[] greySamples(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        Raster raster = image.getRaster();
        int bits = image.getColorModel().getComponentSize(0);
        double scale = 255.0 / ((1 << bits) - 1);
        boolean premultiplied = image.getColorModel().isAlphaPremultiplied() && raster.getNumBands() == 2;
        double alphaMax = premultiplied ? (1 << image.getColorModel().getComponentSize(1)) - 1 : 1;
        float[] out = new float[w * h];
        int[] row = new int[w];
        int[] alpha = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
            if (premultiplied) {
                raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 1, alpha);
            }
            for (int x = 0; x < w; x++) {
                double v = row[x];
                if (premultiplied) {
                    v = alpha[x] == 0 ? 0 : Math.min((1 << bits) - 1, v * alphaMax / alpha[x]);
                }
                out[y * w + x] = bits == 8 && !premultiplied ? row[x] : (float) Math.rint(v * scale);
            }
        }
        return out;
    }
}
