package dev.nfnets.train.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without nfnets-spark on the class path, --spark fails with a message naming the module; bad arguments fail first. */
class ClusterBackendTest {
    @Test
    void sparkOptionsWithoutTheSparkModuleFailClearly(@TempDir Path dir) throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterBackend.find("--spark"));
        assertTrue(e.getMessage().contains("--spark needs the nfnets-spark module"), e.getMessage());
        Path weights = Files.writeString(dir.resolve("w.safetensors"), "not read");
        Path images = Files.createDirectories(dir.resolve("images"));
        // no --output; then a file instead of a folder; then a well-formed call that finds no backend
        assertEquals("1", CliTest.run("predict", "--spark", "local[2]", "--weights", weights.toString(), images.toString())[0]);
        assertEquals("1", CliTest.run("predict", "--spark", "local[2]", "--weights", weights.toString(), "--output",
                dir.resolve("out.csv").toString(), weights.toString())[0]);
        assertEquals("1", CliTest.run("predict", "--spark", "local[2]", "--weights", weights.toString(), "--output",
                dir.resolve("out.csv").toString(), images.toString())[0]);
        assertTrue(!Files.exists(dir.resolve("out.csv")));
    }
}
