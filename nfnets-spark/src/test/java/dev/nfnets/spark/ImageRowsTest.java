package dev.nfnets.spark;

import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.data.ImageFolderDataset;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training from a {@code binaryFile} {@code Dataset<Row>} over an image folder equals training from the same folder
 * through {@link ImageFolderDataset} in one JVM: the rows' global order is the folder's, and each shard receives and
 * preprocesses exactly its examples.
 */
class ImageRowsTest {
    static final int STEPS = 5;
    static final ImageFolderDataset.Options OPTIONS = ImageFolderDataset.Options.grey(10);
    @TempDir
    static Path tmp;
    static Path folder;
    static SparkSession spark;
    static JavaSparkContext sc;

    @BeforeAll
    static void setUp() throws Exception {
        folder = writeFolder(tmp.resolve("images"));
        spark = SparkSession.builder().config(SparkBackend.conf("local[2]", "nfnets-test")).getOrCreate();
        sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    /** Four classes of PNGs of mixed sizes, with a text file, a broken PNG, a hidden file and a hidden folder. */
    static Path writeFolder(Path folder) throws java.io.IOException {
        Random rnd = new Random(5);
        String[] classes = {"cat", "dog", "owl", "yak"};
        for (int k = 0; k < classes.length; k++) {
            Path dir = Files.createDirectories(folder.resolve(classes[k]).resolve(k % 2 == 0 ? "" : "sub"));
            for (int i = 0; i < 11; i++) {
                // sizes, aspect ratios and colours vary: the resize, the crop and the luma all take part
                BufferedImage img = new BufferedImage(10 + rnd.nextInt(9), 10 + rnd.nextInt(9), BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < img.getHeight(); y++) {
                    for (int x = 0; x < img.getWidth(); x++) {
                        int base = 40 * k + 20 * ((x + y) % 3);
                        img.setRGB(x, y, ((base + rnd.nextInt(60)) << 16) | (rnd.nextInt(256) << 8) | rnd.nextInt(256));
                    }
                }
                ImageIO.write(img, "png", dir.resolve("img " + i + ".png").toFile());
            }
        }
        // what the folder index leaves out, the rows must leave out too
        Files.writeString(folder.resolve("cat/notes.txt"), "not an image");
        Files.write(folder.resolve("dog/broken.png"), new byte[] {1, 2, 3, 4});
        Files.copy(folder.resolve("cat/img 0.png"), folder.resolve("cat/.hidden.png"));
        Files.createDirectories(folder.resolve(".cache"));
        Files.copy(folder.resolve("cat/img 1.png"), folder.resolve(".cache/img.png"));
        return folder;
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
        // the next test class's SparkSession.builder() must not find this stopped session
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }

    static Dataset<Row> files() {
        return spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(folder.toString()).repartition(3);
    }

    static TrainingConfig config(boolean mixing) {
        TrainingConfig c = DataParallelExactnessTest.config().toBuilder().maxSteps(STEPS).build();
        return mixing ? c : c.toBuilder().mixupAlpha(0).build();
    }

    static Map<String, float[]> singleJvm(TrainingConfig c, Path dir) throws Exception {
        return singleJvm(c, folder, dir);
    }

    static Map<String, float[]> singleJvm(TrainingConfig c, Path folder, Path dir) throws Exception {
        Trainer t = new Trainer(c, ImageFolderDataset.open(folder, OPTIONS), null, dir);
        t.fit();
        return DataParallelExactnessTest.values(t);
    }

    static Map<String, float[]> fromRows(TrainingConfig c, int shards, Path dir) throws Exception {
        try (ImageRows rows = ImageRows.binaryFiles(files(), folder.toUri().toString(), OPTIONS)) {
            Trainer t = new Trainer(c, rows.dataset(), null, dir);
            try (SparkGradientSource g = new SparkGradientSource(sc, t, rows, shards)) {
                t.gradientSource(g).fit();
            }
            return DataParallelExactnessTest.values(t);
        }
    }

    @Test
    void theRowsAreIndexedInTheFoldersOrder() {
        ImageFolderDataset d = ImageFolderDataset.open(folder, OPTIONS);
        try (ImageRows rows = ImageRows.binaryFiles(files(), folder.toString(), OPTIONS)) {
            assertEquals(44, d.size());
            assertEquals(d.size(), rows.size());
            assertEquals(d.classNames(), rows.classNames());
            for (int i = 0; i < d.size(); i++) {
                assertEquals(d.label(i), rows.dataset().label(i), "label of example " + i);
            }
            assertThrows(UnsupportedOperationException.class, () -> rows.dataset().get(0, new float[100]));
            // every example, as a shard receives and preprocesses it, is the folder's example of the same index
            Map<Integer, ImageRows.Example> all = new java.util.HashMap<>();
            for (ImageRows.Block b : rows.blocks().collect()) {
                for (int i = 0; i < b.labels().length; i++) {
                    all.put(b.start() + i, new ImageRows.Example(b.start() + i, b.labels()[i], b.contents()[i]));
                }
            }
            ImageRows.ShardView view = new ImageRows.ShardView(rows.meta(), all);
            float[] expected = new float[d.exampleLength()];
            float[] actual = new float[d.exampleLength()];
            for (int i = 0; i < d.size(); i++) {
                d.get(i, expected);
                view.get(i, actual);
                org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual, "example " + i + ", " + d.file(i));
                org.junit.jupiter.api.Assertions.assertArrayEquals(d.original(i).data(), view.original(i).data(), "original " + i);
            }
        }
    }

    @Test
    void trainingFromBinaryFileRowsEqualsTrainingFromTheFolder(@TempDir Path dir) throws Exception {
        // MixUp/CutMix: every shard receives the whole batch; crops, flips, dropout and stochastic depth by position
        DataParallelExactnessTest.assertClose(singleJvm(config(true), dir.resolve("local")),
                fromRows(config(true), 2, dir.resolve("rows2")), "binaryFile rows, 2 shards, mixing");
        // without mixing each shard receives only its own examples
        DataParallelExactnessTest.assertClose(singleJvm(config(false), dir.resolve("local-nomix")),
                fromRows(config(false), 3, dir.resolve("rows3")), "binaryFile rows, 3 shards");
    }

    @Test
    void labelledRowsAndBadInput(@TempDir Path dir) throws Exception {
        // integer labels from a column, ordered by a key column
        Dataset<Row> files = files().selectExpr("content", "cast(length(path) % 3 as int) as label", "path as id");
        try (ImageRows rows = ImageRows.labelled(files, "content", "label", "id", OPTIONS)) {
            assertEquals(List.of("0", "1", "2"), rows.classNames());
            assertEquals(44, rows.size(), "every decodable row (binaryFile itself skips hidden names)");
            Trainer other = new Trainer(config(false), ImageFolderDataset.open(folder, OPTIONS), null, dir);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SparkGradientSource(sc, other, rows, 2));
            assertTrue(e.getMessage().contains("is not the rows'"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageRows.labelled(files(), "bytes", "label", "path", OPTIONS));
        assertTrue(e.getMessage().contains("no column 'bytes'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageRows.labelled(files(), "content", "modificationTime", "path", OPTIONS));
        assertTrue(e.getMessage().contains("label column 'modificationTime' is timestamp"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageRows.binaryFiles(files(), "/nowhere", OPTIONS));
        assertTrue(e.getMessage().contains("no readable"), e.getMessage());
    }
}
