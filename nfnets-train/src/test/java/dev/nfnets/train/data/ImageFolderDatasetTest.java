package dev.nfnets.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.nfnets.train.data.augment.Interpolation;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class ImageFolderDatasetTest {
    @TempDir
    Path tmp;

    private ListAppender<ILoggingEvent> logs;
    private ch.qos.logback.classic.Logger logger;

    @BeforeEach
    void captureLogs() {
        logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(ImageFolderDataset.class);
        logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        logger.detachAppender(logs);
    }

    /** A w x h RGB image: left half colour a, right half colour b. */
    private static BufferedImage halves(int w, int h, int a, int b) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, x < w / 2 ? a : b);
            }
        }
        return img;
    }

    private static void write(BufferedImage img, String format, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(img, format, file.toFile())) {
            throw new IOException("no writer for " + format);
        }
    }

    private Path makeTree() throws IOException {
        Path root = tmp.resolve("tree");
        // class "b_dog" sorts after "a_cat"
        write(halves(16, 8, 0x000000, 0xFFFFFF), "png", root.resolve("a_cat/one.png"));
        write(halves(8, 8, 0xFF0000, 0xFF0000), "jpg", root.resolve("a_cat/two.JPG"));
        BufferedImage gray = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                gray.getRaster().setSample(x, y, 0, 100);
            }
        }
        write(gray, "png", root.resolve("b_dog/sub/grey.png"));
        write(halves(10, 12, 0x00FF00, 0x00FF00), "png", root.resolve("b_dog/green.png"));
        Files.write(root.resolve("b_dog/broken.jpg"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Files.writeString(root.resolve("b_dog/readme.txt"), "not an image");
        Files.createDirectories(root.resolve(".hidden"));
        return root;
    }

    @Test
    void indexesClassesSkipsCorruptFilesAndWarnsOnce() throws IOException {
        Path root = makeTree();
        ImageFolderDataset ds = ImageFolderDataset.open(root,
                ImageFolderDataset.Options.of(8).withResizeShorter(8).withInterpolation(Interpolation.BICUBIC));
        assertEquals(List.of("a_cat", "b_dog"), ds.classNames());
        assertEquals(4, ds.size());
        assertEquals(2, ds.numClasses());
        assertEquals(3, ds.channels());
        assertEquals(8, ds.height());
        assertEquals(List.of(0, 0, 1, 1), List.of(ds.label(0), ds.label(1), ds.label(2), ds.label(3)));
        assertEquals(1, ds.skipped().size());
        assertTrue(ds.skipped().get(0).startsWith("b_dog/broken.jpg"), ds.skipped().get(0));

        List<String> warns = logs.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
        assertEquals(1, warns.size(), warns.toString());
        assertTrue(warns.get(0).contains("Skipped 1 unreadable") && warns.get(0).contains("broken.jpg"), warns.get(0));
        assertTrue(ds.description().contains("1 unreadable skipped"), ds.description());
    }

    @Test
    void decodesResizesCropsAndNormalises() throws IOException {
        Path root = makeTree();
        ImageFolderDataset ds = ImageFolderDataset.open(root, ImageFolderDataset.Options.of(8).withResizeShorter(8));
        Normalization n = Normalization.IMAGENET;
        float[] buf = new float[3 * 8 * 8];

        // 16x8 black|white: shorter side already 8, centre crop takes columns 4..11: 4 black then 4 white
        ds.get(0, buf);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    float expected = n.normalize(c, x < 4 ? 0f : 255f);
                    assertEquals(expected, buf[(c * 8 + y) * 8 + x], 1e-4f, "c" + c + " y" + y + " x" + x);
                }
            }
        }
        // red JPEG: close to (255, 0, 0) after lossy coding
        ds.get(1, buf);
        assertEquals(255f, n.denormalize(0, buf[27]), 4f);
        assertEquals(0f, n.denormalize(1, buf[64 + 27]), 4f);
        assertEquals(0f, n.denormalize(2, buf[128 + 27]), 4f);
        // green 10x12 resized to 8x10 (constant stays constant), crop 8x8
        ds.get(2, buf);
        for (int i = 0; i < 64; i++) {
            assertEquals(0f, n.denormalize(0, buf[i]), 1e-3f);
            assertEquals(255f, n.denormalize(1, buf[64 + i]), 1e-3f);
        }
        // grey PNG: raw sample 100 replicated to RGB, no gamma change
        assertTrue(ds.file(3).toString().endsWith("grey.png"));
        ds.get(3, buf);
        for (int c = 0; c < 3; c++) {
            assertEquals(100f, n.denormalize(c, buf[c * 64 + 9]), 1e-3f);
        }
    }

    @Test
    void fullDecodeVerificationAlsoSkips() throws IOException {
        Path root = makeTree();
        ImageFolderDataset ds = ImageFolderDataset.open(root,
                ImageFolderDataset.Options.of(8).withVerify(ImageFolderDataset.Verify.DECODE));
        assertEquals(4, ds.size());
        assertEquals(1, ds.skipped().size());
    }

    @Test
    void twelveMonkeysJpegReaderIsRegisteredAndProgressiveJpegDecodes() throws IOException {
        boolean twelveMonkeys = false;
        for (java.util.Iterator<javax.imageio.ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg"); it.hasNext(); ) {
            twelveMonkeys |= it.next().getClass().getName().startsWith("com.twelvemonkeys");
        }
        assertTrue(twelveMonkeys, "TwelveMonkeys JPEG plugin missing from the classpath");

        Path file = tmp.resolve("p/c/progressive.jpg");
        Files.createDirectories(file.getParent());
        javax.imageio.ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
        param.setProgressiveMode(javax.imageio.ImageWriteParam.MODE_DEFAULT);
        try (javax.imageio.stream.ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(out);
            writer.write(null, new javax.imageio.IIOImage(halves(24, 16, 0x0000FF, 0x0000FF), null, null), param);
        } finally {
            writer.dispose();
        }
        ImageFolderDataset ds = ImageFolderDataset.open(tmp.resolve("p"), 8);
        assertEquals(1, ds.size());
        float[] buf = new float[3 * 64];
        ds.get(0, buf);
        assertEquals(255f, Normalization.IMAGENET.denormalize(2, buf[128 + 30]), 4f);
        // the original keeps the full 16x24 size
        assertArrayEquals(new int[] {3, 16, 24}, ds.original(0).shape());
    }

    @Test
    void loaderCropsOriginalsToAFixedSize() throws IOException {
        Path root = makeTree();
        ImageFolderDataset ds = ImageFolderDataset.open(root, 8);
        BatchLoader loader = BatchLoader.builder(ds).batchSize(2).seed(1).augmentOriginals(true)
                .augmentation(new dev.nfnets.train.data.augment.RandomResizedCrop(6, 6, Interpolation.BILINEAR))
                .build();
        Batch b = loader.load(0, 1);
        assertArrayEquals(new long[] {2, 3, 6, 6}, b.images().shape());
    }

    @Test
    void folderWithoutClassesOrImagesIsAnError() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageFolderDataset.open(empty, 8));
        assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("no class sub-folders"),
                e.getMessage());

        Path noImages = tmp.resolve("noimages");
        Files.createDirectories(noImages.resolve("x"));
        Files.write(noImages.resolve("x/bad.png"), new byte[] {0, 1, 2});
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> ImageFolderDataset.open(noImages, 8));
        assertTrue(e2.getMessage().contains(noImages.toString()) && e2.getMessage().contains("no readable"),
                e2.getMessage());

        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
                () -> ImageFolderDataset.open(tmp.resolve("missing"), 8));
        assertTrue(e3.getMessage().contains("missing"), e3.getMessage());
    }
}
