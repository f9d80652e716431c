package dev.nfnets.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real child JVM writing checkpoints is killed with SIGKILL at random moments; the checkpoint must always load. */
class KillDuringSaveTest {

    @Test
    void killMinus9DuringSaveLeavesTheLastCheckpointLoadable(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        SplittableRandom rnd = new SplittableRandom(1);
        long lastStep = 0;
        for (int round = 0; round < 3; round++) {
            Process p = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                    CheckpointWriterMain.class.getName(), dir.toString())
                    .redirectOutput(dir.resolve("child.log").toFile()).redirectErrorStream(true).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (countSaves(dir) < 2 * (round + 1) && System.nanoTime() < deadline && p.isAlive()) {
                    Thread.sleep(20);
                }
                assertTrue(p.isAlive(), "child died on its own: " + Files.readString(dir.resolve("child.log")));
                Thread.sleep(rnd.nextInt(20, 400));   // land somewhere inside a save
            } finally {
                p.destroyForcibly();                  // SIGKILL on Linux
                p.waitFor(30, TimeUnit.SECONDS);
            }
            Checkpoint.State s = Checkpoint.read(dir.resolve(Trainer.CHECKPOINT_FILE));
            assertTrue(s.step() >= 1, "a complete checkpoint is there after the kill");
            assertTrue(s.model().size() > 10);
            lastStep = s.step();
        }
        assertTrue(lastStep >= 1);
        // temp files of interrupted saves may remain next to it; the trainer removes them when a run starts
        File[] stray = dir.toFile().listFiles((d, n) -> n.endsWith(".tmp"));
        assertTrue(stray != null && stray.length <= 3);
        Trainer.removeStaleTempFiles(dir);
        assertEquals(0, dir.toFile().listFiles((d, n) -> n.endsWith(".tmp")).length);
    }

    private static long countSaves(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("saved-")).count();
        }
    }
}
