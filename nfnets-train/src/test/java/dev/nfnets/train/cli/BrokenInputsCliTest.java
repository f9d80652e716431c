package dev.nfnets.train.cli;

import dev.nfnets.train.RunFolder;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.ImageFolderDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Careless and hostile command lines, data folders and run folders: each ends in an error naming the option, file or
 * folder, or in the correct result, and no earlier run's files are lost.
 */
class BrokenInputsCliTest {
    /** Runs the CLI in-process: exit code, stdout, stderr. */
    static String[] run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = NFNetsCli.execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new String[] {Integer.toString(code), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void numericOptionsThatWouldSilentlyMeanOffOrDefaultAreRefusedByName(@TempDir Path dir) {
        String nowhere = dir.resolve("no-data").toString();
        String[][] cases = {
                {"train", "--lr", "NaN"}, {"train", "--clipping", "NaN"}, {"train", "--mixup", "NaN"},
                {"train", "--base-lr", "Infinity"}, {"train", "--weight-decay", "-1"}, {"train", "--epochs", "0"},
                {"train", "--batch-size", "0"}, {"train", "--image-size", "0"}, {"train", "--warmup-epochs", "NaN"},
                {"train", "--label-smoothing", "NaN"}, {"train", "--agc-eps", "0"}, {"eval", "--batch-size", "0"},
                {"eval", "--image-size", "100000"}};
        for (String[] c : cases) {
            String[] r = c[0].equals("train")
                    ? run(c[0], c[1], c[2], "--data", nowhere)
                    : run(c[0], c[1], c[2], "--weights", nowhere);
            assertEquals("2", r[0], String.join(" ", c) + ": " + r[2]);
            assertTrue(r[2].contains(c[1] + " must"), String.join(" ", c) + ": " + r[2]);
        }
        for (String size : new String[] {"0", "100000"}) {
            String[] r = run("predict", "--weights", nowhere, "--size", size, "x.png");
            assertEquals("2", r[0], r[2]);
            assertTrue(r[2].contains("--size must be between 1 and 4096 pixels, got " + size), r[2]);
        }
    }

    @Test
    void aDirectoryOrMissingImageForPredictIsNamedBeforeAnyModelIsBuilt(@TempDir Path dir) {
        String[] r = run("predict", "--weights", dir.resolve("none.safetensors").toString(), dir.toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains(dir + ": is a directory, not an image file"), r[2]);
    }

    @Test
    void aFolderHoldingARunIsNotReplacedWithoutResumeOrOverwrite(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        byte[] precious = "weights of an earlier run".getBytes(StandardCharsets.UTF_8);
        Files.write(run.resolve("weights.safetensors"), precious);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunFolder.requireFresh(run, false, false));
        assertTrue(e.getMessage().contains("already holds a run (weights.safetensors)") && e.getMessage().contains("--overwrite"),
                e.getMessage());
        assertArrayEquals(precious, Files.readAllBytes(run.resolve("weights.safetensors")));
        RunFolder.requireFresh(run, true, false);   // resuming it is fine
        assertArrayEquals(precious, Files.readAllBytes(run.resolve("weights.safetensors")));
        RunFolder.requireFresh(run, false, true);   // --overwrite deletes it
        assertFalse(Files.exists(run.resolve("weights.safetensors")));
    }

    @Test
    void trainIntoAnExistingRunWithoutResumeIsRefusedAndTheRunKept(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        images(data, "a", 2, 10);
        images(data, "b", 2, 250);
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        byte[] precious = "weights of an earlier run".getBytes(StandardCharsets.UTF_8);
        Files.write(run.resolve("weights.safetensors"), precious);
        Files.writeString(run.resolve("metrics.csv"), "step,epoch\n1,1\n");
        String[] r = run("train", "--data", data.toString(), "--run-dir", run.toString(), "--steps", "1", "--batch-size", "2", "--no-progress");
        assertEquals("1", r[0], r[2]);
        assertTrue(r[2].contains("run folder " + run + " already holds a run"), r[2]);
        assertArrayEquals(precious, Files.readAllBytes(run.resolve("weights.safetensors")));
        assertEquals("step,epoch\n1,1\n", Files.readString(run.resolve("metrics.csv")));
    }

    @Test
    void aSecondTrainerOnTheSameFolderIsRefusedNamingTheFirstAndAStaleLockIsTakenOver(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Process holder = javaChild(ChildMains.LockHolder.class, List.of(run.toString()), null);
        try {
            awaitLine(holder, "locked");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> RunFolder.lock(run));
            assertTrue(e.getMessage().contains("in use by another trainer (process " + holder.pid()), e.getMessage());
        } finally {
            holder.destroyForcibly().waitFor(30, TimeUnit.SECONDS);   // kill -9: the lock file stays behind
        }
        assertTrue(Files.exists(run.resolve(RunFolder.LOCK_FILE)));
        try (RunFolder.Lock lock = RunFolder.lock(run)) {
            assertEquals(Long.toString(ProcessHandle.current().pid()), Files.readString(run.resolve(RunFolder.LOCK_FILE)).trim());
        }
        assertFalse(Files.exists(run.resolve(RunFolder.LOCK_FILE)));
    }

    @Test
    void aRestartedChildExitsWhenItsParentIsKilled() throws Exception {
        Process parent = new ProcessBuilder("sleep", "120").start();
        Process child = javaChild(ChildMains.ParentWatcher.class, List.of(), parent.pid());
        try {
            awaitLine(child, "watching");
            assertTrue(child.isAlive());
            parent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child outlived its parent");
            assertEquals(143, child.exitValue());
        } finally {
            parent.destroyForcibly();
            child.destroyForcibly();
        }
    }

    @Test
    void classNamesAreComparedAndMappedByName(@TempDir Path dir) throws Exception {
        Path train = dir.resolve("train");
        Path test = dir.resolve("test");
        Path subset = dir.resolve("subset");
        images(train, "trouser", 2, 40);
        images(train, "tshirt", 2, 200);
        images(train.resolve("__MACOSX"), "tshirt", 1, 0);   // OS metadata: not a class
        images(train.resolve(".thumbnails"), "x", 1, 0);
        images(test, "t-shirt", 2, 200);
        images(test, "trouser", 2, 40);
        images(subset, "tshirt", 1, 200);
        ImageFolderDataset tr = ImageFolderDataset.open(train, 8);
        assertEquals(List.of("trouser", "tshirt"), tr.classNames());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataSets.align(ImageFolderDataset.open(test, 8), tr.classNames(), "the training folder"));
        assertTrue(e.getMessage().contains("[t-shirt, trouser]") && e.getMessage().contains("[trouser, tshirt]")
                && e.getMessage().contains("[t-shirt]"), e.getMessage());
        Dataset mapped = DataSets.align(ImageFolderDataset.open(subset, 8), tr.classNames(), "the training folder");
        assertEquals(List.of("trouser", "tshirt"), mapped.classNames());
        assertEquals(1, mapped.label(0));   // tshirt is class 1 of the training data, not 0 of the subset's own list
        Path classes = dir.resolve("classes.txt");
        Files.writeString(classes, "trouser\ntshirt\n");
        assertEquals(tr.classNames(), DataSets.readClassNames(classes));
    }

    @Test
    void aTruncatedImageIsWarnedAboutAndReplacedInsteadOfAbortingTheRun(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("data");
        images(root, "a", 2, 10);
        images(root, "b", 2, 250);
        Path victim = root.resolve("b").resolve("1.png");
        byte[] bytes = Files.readAllBytes(victim);
        Files.write(victim, java.util.Arrays.copyOf(bytes, 60));   // header intact, pixel data cut
        ImageFolderDataset ds = ImageFolderDataset.open(root, 8);
        assertEquals(4, ds.size());   // the header check passes
        float[] buf = new float[3 * 8 * 8];
        java.util.Arrays.fill(buf, 7f);
        ds.get(ds.files().indexOf(victim), buf);
        for (float v : buf) {
            assertEquals(0f, v);
        }
        assertEquals(java.util.Set.of("b/1.png"), ds.failedFiles());
        ds.get(0, buf);   // the others still decode
    }

    @Test
    void aOneClassFolderIsRefusedBeforeTrainingAndNothingIsWritten(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("data");
        images(root, "only", 3, 100);
        Path run = dir.resolve("run");
        String[] r = run("train", "--data", root.toString(), "--run-dir", run.toString(), "--steps", "1", "--no-progress");
        assertEquals("1", r[0], r[2]);
        assertTrue(r[2].contains("1 class [only]; a classifier needs at least 2 classes"), r[2]);
        assertFalse(Files.exists(run));
    }

    // ------------------------------------------------------------------ helpers

    /** {@code n} PNGs of grey level {@code level} (12 x 10 pixels) in {@code root/cls}. */
    static void images(Path root, String cls, int n, int level) throws Exception {
        Path d = root.resolve(cls);
        Files.createDirectories(d);
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(12, 10, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 10; y++) {
                for (int x = 0; x < 12; x++) {
                    img.setRGB(x, y, (level << 16) | ((x * 20) << 8) | (y * 20 + i));
                }
            }
            ImageIO.write(img, "png", d.resolve(i + ".png").toFile());
        }
    }

    private static Process javaChild(Class<?> main, List<String> args, Long parentPid) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (parentPid != null) {
            pb.environment().put(Threads.PARENT_PID_ENV, Long.toString(parentPid));
        }
        return pb.start();
    }

    private static void awaitLine(Process p, String line) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String l;
        while ((l = r.readLine()) != null) {
            if (l.trim().equals(line)) {
                Thread drain = new Thread(() -> {
                    try {
                        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                    } catch (java.io.IOException ignored) {
                        // the child ended
                    }
                }, "drain");
                drain.setDaemon(true);
                drain.start();
                return;
            }
            seen.append(l).append('\n');
        }
        throw new AssertionError("child ended before printing '" + line + "': " + seen);
    }
}
