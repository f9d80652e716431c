package dev.nfnets.core.inference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImagesTest {

    @Test
    void byteGreyKeepsItsSampleValuesInAllThreeChannels() {
        BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        int[] v = {0, 17, 100, 128, 200, 255};
        img.getRaster().setSamples(0, 0, 3, 2, 0, v);
        float[] rgb = Images.rgb(img);
        for (int i = 0; i < 6; i++) {
            // getRGB would map 100 to about 170 (linear grey to sRGB); the raster value must survive
            assertEquals(v[i], rgb[i]);
            assertEquals(v[i], rgb[6 + i]);
            assertEquals(v[i], rgb[12 + i]);
        }
        assertArrayEquals(new float[] {0, 17, 100, 128, 200, 255}, Images.grey(img));
    }

    @Test
    void sixteenBitGreyIsScaledAndRounded() {
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        img.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 32768, 65535});
        assertArrayEquals(new float[] {0, 128, 255}, Images.grey(img));
    }

    @Test
    void greyWithAlphaDropsTheAlpha() {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, false,
                Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        WritableRaster r = cm.createCompatibleWritableRaster(2, 1);
        r.setSamples(0, 0, 2, 1, 0, new int[] {200, 30});
        r.setSamples(0, 0, 2, 1, 1, new int[] {50, 0});
        BufferedImage img = new BufferedImage(cm, r, false, null);
        assertArrayEquals(new float[] {200, 30, 200, 30, 200, 30}, Images.rgb(img));
    }

    @Test
    void colourAlphaIsDiscardedKeepingTheColour() {
        for (int type : new int[] {BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_4BYTE_ABGR}) {
            BufferedImage img = new BufferedImage(2, 1, type);
            img.setRGB(0, 0, 0x000A141E);       // fully transparent (10, 20, 30)
            img.setRGB(1, 0, 0x80FF8000);       // half transparent orange
            assertArrayEquals(new float[] {10, 255, 20, 128, 30, 0}, Images.rgb(img), "type " + type);
        }
    }

    @Test
    void rgbChannelsComeOutInRgbOrder() {
        BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_3BYTE_BGR);
        img.setRGB(0, 0, 0x102030);
        assertArrayEquals(new float[] {0x10, 0x20, 0x30}, Images.rgb(img));
        BufferedImage bin = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_BINARY);
        bin.setRGB(1, 0, 0xFFFFFF);
        assertArrayEquals(new float[] {0, 255, 0, 255, 0, 255}, Images.rgb(bin));
    }

    @Test
    void colourToGreyUsesThe601Luma() {
        BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xFF0000);
        img.setRGB(1, 0, 0x00FF00);
        img.setRGB(2, 0, 0x0000FF);
        img.setRGB(3, 0, 0x808080);
        // PIL convert('L'): 76, 150, 29, 128
        assertArrayEquals(new float[] {76, 150, 29, 128}, Images.grey(img));
    }

    @Test
    void decodesAPngRoundTrip(@TempDir Path dir) throws IOException {
        BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        img.setRGB(2, 1, 0x336699);
        Path f = dir.resolve("a.png");
        ImageIO.write(img, "png", f.toFile());
        BufferedImage back = Images.read(f);
        assertEquals(3, back.getWidth());
        assertEquals(0x336699, back.getRGB(2, 1) & 0xFFFFFF);
    }

    @Test
    void undecodableAndMissingFilesAreNamed(@TempDir Path dir) throws IOException {
        Path junk = dir.resolve("broken.jpg");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        IOException e = assertThrows(IOException.class, () -> Images.read(junk));
        assertTrue(e.getMessage().contains(junk.toString()), e.getMessage());

        Path truncated = dir.resolve("truncated.png");
        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
        ImageIO.write(img, "png", truncated.toFile());
        byte[] all = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(all, 40));
        e = assertThrows(IOException.class, () -> Images.read(truncated));
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());

        Path missing = dir.resolve("nope.png");
        e = assertThrows(IOException.class, () -> Images.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
}
