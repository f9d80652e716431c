package dev.nfnets.core.weights;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.io.NpyArray;
import dev.nfnets.core.io.Npz;
import dev.nfnets.core.io.Safetensors;
import dev.nfnets.layers.Mode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightsTest {
    static NFNetConfig small() {
        return NFNetConfig.builder(NFNetConfig.mnist()).name("small").inChannels(3).numClasses(7)
                .stem(new int[] {8, 16}, new int[] {2, 1}).stageWidths(16, 32).stageDepths(2, 1).stageStrides(1, 2)
                .groupWidth(8).finalConvChannels(32).build();
    }

    static String file(WeightFormat f) {
        return f == WeightFormat.DEEPMIND ? "w.npz" : "w.safetensors";
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void roundTripGivesIdenticalLogits(WeightFormat format, @TempDir Path dir) throws IOException {
        NFNet a = new NFNet(small());
        a.namedParameters().values().forEach(p -> p.value().addi(Nd4j.randn(DataType.FLOAT, p.shape()).muli(0.1)));
        Path f = dir.resolve(file(format));
        Weights.save(a, f, format);
        NFNet b = new NFNet(small());
        Weights.load(b, f);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 16, 16);
        assertEquals(a.forward(x, Mode.EVAL), b.forward(x, Mode.EVAL));
        assertEquals(format, Weights.read(f).format());
    }

    @Test
    void nativeFileCarriesItsConfig(@TempDir Path dir) throws IOException {
        NFNet a = new NFNet(small());
        Path f = dir.resolve("n.safetensors");
        Weights.save(a, f, WeightFormat.NATIVE);
        assertEquals(small(), Weights.read(f).config().orElseThrow());
    }

    @Test
    void deepMindNamesFollowTheReference() {
        Map<String, WeightFormat.Entry> e = WeightFormat.DEEPMIND.entries(new NFNet(small()));
        assertEquals("NFNet/~/stem_conv0/w", e.get("stem.conv0.weight").external());
        assertEquals("NFNet/~/nf_block/~/conv1b/gain", e.get("stages.0.0.conv1b.gain").external());
        assertEquals("NFNet/~/nf_block_2/~/conv_shortcut/bias", e.get("stages.1.0.conv_shortcut.bias").external());
        assertEquals("NFNet/~/nf_block_1/skip_gain", e.get("stages.0.1.skip_gain").external());
        assertEquals("NFNet/~/nf_block_2/~/squeeze_excite/~/linear_1/b", e.get("stages.1.0.squeeze_excite.linear_1.bias").external());
        assertEquals("NFNet/~/linear/w", e.get("classifier.weight").external());
        Map<String, WeightFormat.Entry> t = WeightFormat.TIMM.entries(new NFNet(small()));
        assertEquals("stem.conv1.weight", t.get("stem.conv0.weight").external());
        assertEquals("stages.1.0.downsample.conv.weight", t.get("stages.1.0.conv_shortcut.weight").external());
        assertEquals("stages.0.1.skipinit_gain", t.get("stages.0.1.skip_gain").external());
        assertEquals("head.fc.weight", t.get("classifier.weight").external());
    }

    @Test
    void everyProblemIsReportedAtOnceAndNothingChanges(@TempDir Path dir) throws IOException {
        NFNet a = new NFNet(small());
        Path good = dir.resolve("good.npz");
        Weights.save(a, good, WeightFormat.DEEPMIND);
        Map<String, NpyArray> t = new LinkedHashMap<>(Npz.read(good));
        t.remove("NFNet/~/stem_conv1/gain");
        t.remove("NFNet/~/nf_block_1/skip_gain");
        t.put("NFNet/~/linear/w", NpyArray.ofFloats(new long[] {32, 8}, new float[32 * 8]));
        t.put("NFNet/~/extra/w", NpyArray.ofFloats(new long[] {2}, 1f, 2f));
        Path bad = dir.resolve("bad.npz");
        Npz.write(bad, t);

        NFNet b = new NFNet(small());
        INDArray before = b.namedParameters().get("stem.conv0.weight").value().dup();
        WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> Weights.load(b, bad));
        assertEquals(2, e.missing().size());
        assertEquals(1, e.unexpected().size());
        assertEquals(1, e.misShaped().size());
        String m = e.getMessage();
        assertTrue(m.contains("bad.npz") && m.contains("NFNet/~/stem_conv1/gain") && m.contains("NFNet/~/nf_block_1/skip_gain")
                && m.contains("NFNet/~/extra/w") && m.contains("file [32, 8], model expects [32, 7]"), m);
        assertEquals(before, b.namedParameters().get("stem.conv0.weight").value(), "nothing may change when the file does not fit");
    }

    @Test
    void deepMindHaikuPickleLoadsLikeTheNpzOfTheSameWeights(@TempDir Path dir) throws Exception {
        Path fixtures = Path.of(WeightsTest.class.getResource("/fixtures/nfnet-micro/weights.npz").toURI()).getParent();
        NFNetConfig micro = dev.nfnets.core.reference.ReferenceCase.open(fixtures.resolve("s64")).config();
        NFNet fromNpz = new NFNet(micro);
        Weights.load(fromNpz, fixtures.resolve("weights.npz"));
        // the published files are pickles named .npz; the name must not matter
        Path renamed = dir.resolve("F_micro.weights");
        Files.copy(fixtures.resolveSibling("haiku-pickle").resolve("micro_p4_haiku.npz"), renamed);
        NFNet fromPickle = new NFNet(micro);
        Weights.load(fromPickle, renamed);
        assertEquals(WeightFormat.DEEPMIND, Weights.read(renamed).format());
        for (Map.Entry<String, dev.nfnets.layers.Parameter> e : fromNpz.namedParameters().entrySet()) {
            assertEquals(e.getValue().value(), fromPickle.namedParameters().get(e.getKey()).value(), e.getKey());
        }
        INDArray x = Nd4j.randn(DataType.FLOAT, 1, 3, 32, 32);
        assertEquals(fromNpz.forward(x, Mode.EVAL), fromPickle.forward(x, Mode.EVAL));
        // and a .npz-named safetensors file is read as safetensors
        Path misnamed = dir.resolve("really_safetensors.npz");
        Weights.save(fromNpz, misnamed.resolveSibling("x.safetensors"), WeightFormat.TIMM);
        Files.move(misnamed.resolveSibling("x.safetensors"), misnamed);
        assertEquals(WeightFormat.TIMM, Weights.read(misnamed).format());
    }

    @Test
    void truncatedAndUnknownFilesAreClearErrors(@TempDir Path dir) throws IOException {
        NFNet a = new NFNet(small());
        Path f = dir.resolve("t.safetensors");
        Weights.save(a, f, WeightFormat.TIMM);
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        IOException e = assertThrows(IOException.class, () -> Weights.load(new NFNet(small()), f));
        assertTrue(e.getMessage().contains("t.safetensors"), e.getMessage());
        Path other = dir.resolve("w.bin");
        Files.write(other, new byte[] {1, 2, 3});
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> Weights.read(other));
        assertTrue(u.getMessage().contains(".npz") && u.getMessage().contains("w.bin"), u.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Weights.read(dir.resolve("missing.npz")));
    }

    @Test
    void fineTuningSkipsTheClassifier(@TempDir Path dir) throws IOException {
        NFNet a = new NFNet(small());
        Path f = dir.resolve("a.safetensors");
        Weights.save(a, f, WeightFormat.TIMM);
        NFNet b = new NFNet(NFNetConfig.builder(small()).numClasses(3).build());
        Weights.load(b, f, name -> name.startsWith("classifier."));
        assertEquals(a.namedParameters().get("final_conv.weight").value(), b.namedParameters().get("final_conv.weight").value());
        assertThrows(WeightMismatchException.class, () -> Weights.load(new NFNet(NFNetConfig.builder(small()).numClasses(3).build()), f));
        Safetensors.read(f); // still a valid file
    }
}
