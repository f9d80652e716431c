package dev.nfnets.train.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image folders read as one grey channel, for one-channel models. */
class ImageFolderGreyTest {
    @Test
    void colourImagesBecomeOneGreyPlaneSquashedWhole(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("a"));
        BufferedImage img = new BufferedImage(56, 28, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 56; x++) {
                img.setRGB(x, y, x < 28 ? 0xFF0000 : 0x0000FF);   // left red, right blue
            }
        }
        ImageIO.write(img, "png", dir.resolve("a").resolve("x.png").toFile());
        ImageFolderDataset ds = ImageFolderDataset.open(dir, ImageFolderDataset.Options.grey(28));
        assertEquals(1, ds.channels());
        assertTrue(ds.description().contains("1x28x28"), ds.description());
        float[] out = new float[28 * 28];
        ds.get(0, out);
        // PIL's luma: red 255 -> 76, blue 255 -> 29; then Fashion-MNIST normalisation
        float red = (76 - 255f * 0.2860f) / (255f * 0.3530f);
        float blue = (29 - 255f * 0.2860f) / (255f * 0.3530f);
        assertEquals(red, out[14 * 28 + 2], 1e-3, "left quarter: the whole image is squashed, not cropped");
        assertEquals(blue, out[14 * 28 + 25], 1e-3, "right quarter");
        assertEquals(1, ds.original(0).channels());

        ImageFolderDataset rgb = ImageFolderDataset.open(dir, ImageFolderDataset.Options.of(28).withChannels(1));
        assertEquals(1, rgb.channels());
        assertEquals(Normalization.FASHION_MNIST, rgb.normalization());
        assertThrows(IllegalArgumentException.class, () -> ImageFolderDataset.Options.of(28).withChannels(2));
        assertThrows(IllegalArgumentException.class, () -> new ImageFolderDataset.Options(28, 28, true,
                dev.nfnets.train.data.augment.Interpolation.BICUBIC, Normalization.IMAGENET, ImageFolderDataset.Verify.HEADER, 1));
    }
}
