package dev.nfnets.spark;

import dev.nfnets.train.GradientSource;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.data.DatasetSource;
import dev.nfnets.train.data.ImageFolderDataset;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code nfnets train --spark} with {@code spark.nfnets.readImageFolders=binaryFile}: the backend reads the image
 * folder through {@code binaryFile} into {@link ImageRows} and trains exactly as from the folder in one JVM.
 */
class ReadImageFoldersTest {
    @Test
    void theBackendTrainsFromBinaryFileRowsOfTheFolder(@TempDir Path tmp) throws Exception {
        Path folder = ImageRowsTest.writeFolder(tmp.resolve("images"));
        TrainingConfig c = ImageRowsTest.config(true);
        Map<String, float[]> expected = ImageRowsTest.singleJvm(c, folder, tmp.resolve("local"));
        System.setProperty(SparkBackend.READ_FOLDERS, "binaryFile");
        try {
            Trainer t = new Trainer(c, ImageFolderDataset.open(folder, ImageRowsTest.OPTIONS), null, tmp.resolve("spark"));
            try (GradientSource g = new SparkBackend().training("local[2]", t,
                    DatasetSource.imageFolder(folder, ImageRowsTest.OPTIONS))) {
                t.gradientSource(g).fit();
            }
            DataParallelExactnessTest.assertClose(expected, DataParallelExactnessTest.values(t), "--spark local[2], binaryFile");

            Trainer other = new Trainer(c, ImageFolderDataset.open(folder, ImageRowsTest.OPTIONS), null, tmp.resolve("bad"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new SparkBackend().training("local[2]", other, DataParallelExactnessTest.DATA));
            assertTrue(e.getMessage().contains("reads image folders"), e.getMessage());
        } finally {
            System.clearProperty(SparkBackend.READ_FOLDERS);
        }
    }
}
