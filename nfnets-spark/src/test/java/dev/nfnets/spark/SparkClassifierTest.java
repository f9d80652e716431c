package dev.nfnets.spark;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import dev.nfnets.core.weights.WeightFormat;
import dev.nfnets.core.weights.Weights;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batch inference on Spark gives what the local classifier gives, image by image; the CLI's CSV holds it. */
class SparkClassifierTest {
    @Test
    void classifiesABinaryFileDataFrameAsTheLocalClassifierDoes(@TempDir Path dir) throws Exception {
        NFNet net = new NFNet(DataParallelExactnessTest.tiny(), 5);
        Path weights = dir.resolve("weights.safetensors");
        Weights.save(net, weights, WeightFormat.NATIVE);
        Path images = Files.createDirectories(dir.resolve("images/sub"));
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 7; i++) {
            BufferedImage img = new BufferedImage(12 + i, 9 + 2 * i, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, r.nextInt(1 << 24));
                }
            }
            ImageIO.write(img, "png", images.resolve("img" + i + ".png").toFile());
        }
        Files.writeString(dir.resolve("images/notes.txt"), "not an image");
        List<String> names = List.of("a", "b", "c", "d");
        SparkClassifier.Model model = new SparkClassifier.Model(weights.toString(), null, names);
        ImageClassifier local = model.load();

        SparkSession spark = SparkSession.builder().config(SparkBackend.conf("local[2]", "nfnets-test")).getOrCreate();
        try {
            Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true")
                    .option("pathGlobFilter", "*.png").load(dir.resolve("images").toString());
            List<Row> rows = SparkClassifier.classify(files.repartition(3), model, 3).orderBy("path").collectAsList();
            assertEquals(7, rows.size());
            for (Row row : rows) {
                Path file = Path.of(java.net.URI.create(row.getString(0)));
                List<Prediction> expected = local.classify(file, 3);
                List<String> labels = row.getList(1);
                List<Double> probs = row.getList(2);
                assertEquals(3, labels.size());
                for (int i = 0; i < 3; i++) {
                    assertEquals(expected.get(i).label(), labels.get(i), file.toString());
                    assertEquals(expected.get(i).probability(), probs.get(i), 1e-6, file.toString());
                }
            }
            assertThrows(IllegalArgumentException.class, () -> SparkClassifier.classify(files.select("path"), model, 3));
        } finally {
            spark.stop();
        }

        Path csv = dir.resolve("out/predictions.csv");
        Files.createDirectories(csv.getParent());
        long n = new SparkBackend().predict("local[2]", weights, null, names, dir.resolve("images"), 2, csv);
        assertEquals(7, n);
        List<String> lines = Files.readAllLines(csv);
        assertEquals("path,label1,probability1,label2,probability2", lines.get(0));
        assertEquals(8, lines.size());
        assertTrue(lines.get(1).contains("img0.png,"), lines.get(1));
    }
}
