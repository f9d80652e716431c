package dev.nfnets.train.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nfnets models}, timm's model names and the weights cache; nothing here touches the network. */
class ModelsCommandTest {
    @Test
    void listsTheModelsWithSizesAndWhereTheWeightsLive() {
        String[] r = FineTuneCliTest.run("models");
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].matches("(?s).*F0\\s+f0, dm_nfnet_f0\\s+71,489,284\\s+192/256\\s+12\\.38.*"), r[1]);
        assertTrue(r[1].contains("nfnet-mnist"), r[1]);
        assertTrue(r[1].matches("(?s).*F7\\s+f7 .* none\n.*"), r[1]);
        assertTrue(r[1].contains("https://huggingface.co/timm/dm_nfnet_f0.dm_in1k/resolve/main/model.safetensors"), r[1]);
        assertTrue(r[1].contains("https://storage.googleapis.com/dm-nfnets/F0_haiku.npz"), r[1]);
        assertTrue(r[1].contains("Cache folder: "), r[1]);
    }

    @Test
    void helpListsEveryCommandWithAWholeSentence() {
        String[] h = FineTuneCliTest.run("--help");
        assertEquals("0", h[0], h[1]);
        for (String header : new String[] {"Train or fine-tune an NFNet (default: Fashion-MNIST) and evaluate it.",
                "Check the model against a DeepMind reference case (logits, loss, gradients, one step).",
                "List the built-in models and their published weights; download them."}) {
            assertTrue(h[1].replaceAll("\\s+", " ").contains(header), h[1]);
        }
        String[] b = FineTuneCliTest.run("bench", "--help");
        assertFalse(b[1].contains("as many threads as processors"), b[1]);
        assertTrue(b[1].replaceAll("\\s+", " ").contains("Native threads (ND4J, OpenMP, oneDNN) follow --threads"), b[1]);
    }

    @Test
    void timmNamesAreAccepted() throws Exception {
        assertEquals(Models.resolve("f3"), Models.resolve("dm_nfnet_f3"));
        assertEquals(Models.resolve("f0"), Models.resolve("nfnet-f0"));
        assertEquals(Models.resolve("mnist"), Models.resolve("nfnet-mnist"));
        String[] s = FineTuneCliTest.run("summary", "--model", "dm_nfnet_f0");
        assertEquals("0", s[0], s[1]);
        assertTrue(s[1].contains("71489284") || s[1].contains("71,489,284"), s[1]);
        assertEquals("1", FineTuneCliTest.run("models", "--download", "dm_nfnet_f7")[0]);
    }

    @Test
    void publishedNamesResolveToTheCacheAndDownloadsAreAtomic(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        assertEquals(cache.resolve("dm_nfnet_f2.safetensors"), WeightsCache.cachedFile(cache, 2));
        assertEquals(2, WeightsCache.publishedVariant("dm_nfnet_f2").orElseThrow());
        assertTrue(WeightsCache.publishedVariant("f7").isEmpty());
        Path existing = dir.resolve("x.safetensors");
        Files.write(existing, new byte[] {1});
        assertEquals(existing, WeightsCache.resolve(existing));
        assertEquals(cache, WeightsCache.folder(dev.nfnets.layers.NFNetsOptions.builder().cache(cache.toString()).build()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightsCache.resolve(Path.of("dm_nfnet_f1"), cache));
        assertTrue(e.getMessage().contains("./nfnets models --download dm_nfnet_f1") && e.getMessage().contains(cache.toString()),
                e.getMessage());
        // a local file: URL stands in for the hub
        byte[] payload = new byte[200_000];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31);
        }
        Path source = dir.resolve("model.safetensors");
        Files.write(source, payload);
        Path target = WeightsCache.cachedFile(cache, 0);
        WeightsCache.download(source.toUri(), target);
        assertArrayEquals(payload, Files.readAllBytes(target));
        try (var files = Files.list(cache)) {
            assertEquals(1, files.count(), "no temporary file left");
        }
        assertThrows(java.io.IOException.class, () -> WeightsCache.download(dir.resolve("missing").toUri(), WeightsCache.cachedFile(cache, 1)));
        assertFalse(Files.exists(WeightsCache.cachedFile(cache, 1)));
    }
}
