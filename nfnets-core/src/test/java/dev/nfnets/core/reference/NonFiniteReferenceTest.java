package dev.nfnets.core.reference;

import dev.nfnets.core.io.Npy;
import dev.nfnets.core.io.NpyArray;
import dev.nfnets.core.io.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reference holding NaN (all-NaN logits, one NaN gradient) must fail the check, not pass it through a NaN-skipping maximum. */
class NonFiniteReferenceTest {
    private static Path copyFixture(Path to) throws Exception {
        Path root = ReferenceParityTest.caseDir("s64").getParent();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(root.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to.resolve("s64");
    }

    @Test
    void nanReferenceLogitsAndGradientsFail(@TempDir Path dir) throws Exception {
        Path s64 = copyFixture(dir);
        Files.delete(s64.resolve("step1.npz"));   // not needed here: keeps the test short
        Files.delete(dir.resolve("weights.safetensors"));
        NpyArray logits = Npy.read(s64.resolve("logits.npy"));
        float[] nan = new float[(int) logits.elementCount()];
        java.util.Arrays.fill(nan, Float.NaN);
        Npy.write(s64.resolve("logits.npy"), NpyArray.ofFloats(logits.shape(), nan));
        LinkedHashMap<String, NpyArray> grads = Npz.read(s64.resolve("grads.npz"));
        Map.Entry<String, NpyArray> first = grads.entrySet().iterator().next();
        float[] g = first.getValue().toFloatArray();
        g[0] = Float.NaN;
        grads.put(first.getKey(), NpyArray.ofFloats(first.getValue().shape(), g));
        Npz.write(s64.resolve("grads.npz"), grads);

        ReferenceCheck.Report r = new ReferenceCheck(ReferenceCheck.Tolerances.DEFAULT).run(ReferenceCase.open(s64));
        String text = r.render();
        assertFalse(r.ok(), text);
        assertFalse(r.find("logits max abs error (weights.npz)").orElseThrow().ok(), text);
        assertFalse(r.find("gradients max rel error").orElseThrow().ok() && r.find("skip-gain gradients").orElseThrow().ok(), text);
        assertTrue(r.find("loss abs error (weights.npz)").orElseThrow().ok(), text);   // the loss file is untouched
        assertTrue(text.contains("NaN") && text.endsWith("FAIL\n"), text);
        assertFalse(new ReferenceCheck.Line("x", Double.NEGATIVE_INFINITY, "", 1e-5).ok());
    }
}
