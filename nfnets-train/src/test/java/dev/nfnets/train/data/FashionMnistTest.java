package dev.nfnets.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @Test
    void embeddedSubsetHas6000BalancedTrainAnd1000Test() {
        FashionMnist train = FashionMnist.loadEmbedded(Split.TRAIN);
        assertEquals(6000, train.size());
        assertEquals("embedded subset (6000 train, 1000 test)", train.source());
        assertEquals(FashionMnist.Origin.EMBEDDED, train.origin());
        int[] counts = train.labelCounts();
        for (int c : counts) {
            assertEquals(600, c);
        }
        FashionMnist test = FashionMnist.loadEmbedded(Split.TEST);
        assertEquals(1000, test.size());
        assertEquals("embedded subset (6000 train, 1000 test)", test.source());
        // first 1000 labels of the official test split
        assertArrayEquals(new int[] {107, 105, 111, 93, 115, 87, 97, 95, 95, 95}, test.labelCounts());
        assertEquals(1, train.channels());
        assertEquals(28, train.height());
        assertEquals(28, train.width());
        assertEquals(10, train.numClasses());
        assertEquals("T-shirt/top", train.classNames().get(0));
        assertEquals("Ankle boot", train.classNames().get(9));
    }

    @Test
    void pixelsAreScaledAndNormalised() {
        FashionMnist ds = FashionMnist.loadEmbedded(Split.TEST);
        float[] buf = new float[784];
        ds.get(0, buf);
        float sum = 0;
        for (int p = 0; p < 784; p++) {
            float expected = (ds.rawPixel(0, p) / 255f - 0.2860f) / 0.3530f;
            assertEquals(expected, buf[p], 1e-5f);
            sum += ds.rawPixel(0, p);
        }
        assertTrue(sum > 0);
        assertEquals((0 / 255f - 0.2860f) / 0.3530f, Normalization.FASHION_MNIST.normalize(0, 0), 1e-6f);
    }

    @Test
    void systemCopyIsPreferredWhenPresent() {
        Assumptions.assumeTrue(FashionMnist.systemCopyAvailable(Split.TEST), "no system Fashion-MNIST");
        FashionMnist ds = FashionMnist.load(Split.TEST, null);
        assertEquals(10000, ds.size());
        assertEquals(FashionMnist.Origin.SYSTEM_DIR, ds.origin());
        assertEquals("full Fashion-MNIST from /usr/share/datasets/fashion-mnist (10000 test)", ds.source());
        // the embedded test subset is the head of the full test split
        FashionMnist sub = FashionMnist.loadEmbedded(Split.TEST);
        float[] a = new float[784];
        float[] b = new float[784];
        for (int i : new int[] {0, 1, 500, 999}) {
            ds.get(i, a);
            sub.get(i, b);
            assertArrayEquals(a, b);
            assertEquals(ds.label(i), sub.label(i));
        }
    }

    @Test
    void explicitFolderWithoutFilesIsAnError(@TempDir Path tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FashionMnist.load(Split.TRAIN, tmp));
        assertTrue(e.getMessage().contains(tmp.toString()) && e.getMessage().contains("train-images-idx3-ubyte"),
                e.getMessage());
    }

    @Test
    void explicitFolderIsUsed(@TempDir Path tmp) throws Exception {
        Idx.write(tmp.resolve("t10k-images-idx3-ubyte"),
                new Idx.UbyteArray(new int[] {2, 28, 28}, new byte[2 * 784]), false);
        Idx.write(tmp.resolve("t10k-labels-idx1-ubyte.gz"), new Idx.UbyteArray(new int[] {2}, new byte[] {3, 4}), true);
        FashionMnist ds = FashionMnist.load(Split.TEST, tmp);
        assertEquals(2, ds.size());
        assertEquals(4, ds.label(1));
        assertEquals(FashionMnist.Origin.EXPLICIT_DIR, ds.origin());
        assertEquals("Fashion-MNIST from " + tmp + " (2 test)", ds.source());
    }
}
