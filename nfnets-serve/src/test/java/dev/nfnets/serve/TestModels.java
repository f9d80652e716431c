package dev.nfnets.serve;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.weights.WeightFormat;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.train.cli.Classifiers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A small model saved as a `nfnets train` run folder, and test images made in code. */
final class TestModels {
    static final List<String> FASHION = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot");

    private TestModels() {
    }

    /** The Fashion-MNIST model with seeded random weights, written as a run folder and loaded back like `serve` does. */
    static ImageClassifier fashionRun(Path dir) throws IOException {
        NFNet net = new NFNet(NFNetConfig.mnist(), 1234);
        Files.createDirectories(dir);
        Weights.save(net, dir.resolve(Classifiers.RUN_WEIGHTS), WeightFormat.NATIVE);
        Files.write(dir.resolve("classes.txt"), FASHION);
        return Classifiers.load(dir, null, null, null);
    }

    /** Image {@code i}: a different shape, size and colour per index (so the model's answers differ). */
    static BufferedImage image(int i) {
        BufferedImage img = new BufferedImage(40 + 7 * i, 36 + 5 * i, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(20 * i % 256, 255 - 30 * i % 256, 90));
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.WHITE);
        switch (i % 4) {
            case 0 -> g.fillOval(5, 5, img.getWidth() - 10, img.getHeight() - 10);
            case 1 -> g.fillRect(img.getWidth() / 3, 2, img.getWidth() / 3, img.getHeight() - 4);
            case 2 -> g.fillPolygon(new int[] {0, img.getWidth(), img.getWidth() / 2}, new int[] {img.getHeight(), img.getHeight(), 0}, 3);
            default -> {
                for (int x = 0; x < img.getWidth(); x += 6) {
                    g.fillRect(x, 0, 3, img.getHeight());
                }
            }
        }
        g.dispose();
        return img;
    }

    static byte[] encode(BufferedImage img, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A valid PNG header (signature and IHDR with its CRC) declaring {@code w x h} RGB pixels, and no image data. */
    static byte[] pngHeader(int w, int h) {
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(w).putInt(h)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(ihdr.array());
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(8 + 4 + 17 + 4);
        out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}).putInt(13).put(ihdr.array())
                .putInt((int) crc.getValue());
        return out.array();
    }
}
