package dev.nfnets.core.robust;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.inference.Images;
import dev.nfnets.core.io.Limits;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.core.io.NpyArray;
import dev.nfnets.core.io.NpyDType;
import dev.nfnets.core.io.Npz;
import dev.nfnets.core.io.Safetensors;
import dev.nfnets.core.io.SafetensorsFile;
import dev.nfnets.core.io.TensorFormatException;
import dev.nfnets.core.weights.ConfigJson;
import dev.nfnets.core.weights.WeightChecks;
import dev.nfnets.core.weights.WeightFormat;
import dev.nfnets.core.weights.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crafted broken or hostile files (a few KB to a few MB each, generated here): every one ends in an error naming the
 * file and what is wrong, before a large allocation or a model is built, and leaves the model unchanged.
 */
class BrokenFilesTest {
    static NFNetConfig small() {
        return NFNetConfig.builder(NFNetConfig.mnist()).name("small").inChannels(3).numClasses(5)
                .stem(new int[] {8, 16}, new int[] {2, 1}).stageWidths(16, 32).stageDepths(1, 1).stageStrides(1, 2)
                .groupWidth(8).finalConvChannels(32).build();
    }

    private static String msg(Throwable t) {
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    @Test
    void aFlippedBitInAnNpzEntryIsRefusedNamingTheEntry(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("w.npz");
        float[] v = new float[256];
        java.util.Arrays.fill(v, 0.25f);
        Npz.write(f, Map.of("a", NpyArray.ofFloats(new long[] {256}, v)));
        byte[] bytes = Files.readAllBytes(f);
        int at = indexOf(bytes, new byte[] {0, 0, (byte) 0x80, 0x3e}) + 2;   // inside the data: 0.25f = 0x3e800000
        bytes[at] ^= 0x01;   // one bit
        Files.write(f, bytes);
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Npz.read(f));
        assertTrue(msg(e).contains("entry 'a.npy'") && msg(e).contains("bad CRC-32"), msg(e));
    }

    @Test
    void anNpzZipBombIsRefusedFromItsDeclaredSizesBeforeInflating(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bomb.npz");
        long n = 16L << 20;   // 16 Mi float32 zeros: 64 MiB inflated
        try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(f))) {
            zos.setLevel(Deflater.BEST_COMPRESSION);
            for (String key : new String[] {"x", "y"}) {
                zos.putNextEntry(new ZipEntry(key + ".npy"));
                zos.write(npyHeader("<f4", "(" + n + ",)"));
                byte[] zeros = new byte[1 << 20];
                for (long written = 0; written < n * 4; written += zeros.length) {
                    zos.write(zeros);
                }
                zos.closeEntry();
            }
        }
        assertTrue(Files.size(f) < 1 << 20, "the bomb is small: " + Files.size(f));
        try (Limits.Scope s = Limits.use(NFNetsOptions.builder().maxTensorBytes(100L << 20).build())) {   // 100 MiB < 128 MiB
            TensorFormatException e = assertThrows(TensorFormatException.class, () -> Npz.read(f));
            assertTrue(msg(e).contains("inflate to more than 100.0 MiB") && msg(e).contains("entry 'y.npy'")
                    && msg(e).contains(Limits.MAX_TENSOR_BYTES), msg(e));
        }
        assertEquals(2, Npz.read(f).size());   // under the default limit (3/4 of the heap) it is an ordinary file
    }

    @Test
    void integerAndNonFiniteTensorsAreRefusedNamingThemAndTheModelIsUnchanged(@TempDir Path dir) throws Exception {
        NFNet model = new NFNet(small(), 1);
        LinkedHashMap<String, NpyArray> tensors = new LinkedHashMap<>(Weights.export(model, WeightFormat.DEEPMIND));
        String bias = "NFNet/~/linear/b";
        String gain = "NFNet/~/stem_conv0/gain";
        tensors.put(bias, new NpyArray(NpyDType.I4, new long[] {5}, new byte[20]));
        float[] g = tensors.get(gain).toFloatArray();
        g[3] = Float.NaN;
        tensors.put(gain, NpyArray.ofFloats(tensors.get(gain).shape(), g));
        Path f = dir.resolve("bad.npz");
        Npz.write(f, tensors);
        NFNet target = new NFNet(small(), 2);
        float[] before = target.namedParameters().get("stem.conv0.gain").value().toFloatVector();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Weights.load(target, f));
        assertTrue(msg(e).contains(bias + ": dtype I4") && msg(e).contains(gain + ": element 3 is NaN")
                && msg(e).contains("2 tensors"), msg(e));
        assertArrayEquals(before, target.namedParameters().get("stem.conv0.gain").value().toFloatVector());
    }

    @Test
    void aNativeFileWhoseConfigClaimsHugeWidthsOrDepthIsRefusedBeforeBuilding(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("w.safetensors");
        Weights.save(new NFNet(small(), 1), f, WeightFormat.NATIVE);
        SafetensorsFile sf = Safetensors.read(f);
        for (NFNetConfig huge : new NFNetConfig[] {
                NFNetConfig.builder(small()).stageWidths(65536, 65536).build(),
                NFNetConfig.builder(small()).stageDepths(100_000, 1).build()}) {
            Map<String, String> meta = new LinkedHashMap<>(sf.metadata());
            meta.put("config", ConfigJson.toJson(huge));
            Path g = dir.resolve("huge.safetensors");
            Safetensors.write(g, sf.tensors(), meta);
            Weights.WeightFile wf = Weights.read(g);
            IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                    () -> assertThrows(IllegalArgumentException.class, wf::config));
            assertTrue(msg(e).startsWith(g.toString()) && msg(e).contains("parameters"), msg(e));
        }
        // a config that is small but does not match the tensors is refused too
        Map<String, String> meta = new LinkedHashMap<>(sf.metadata());
        meta.put("config", ConfigJson.toJson(NFNetConfig.builder(small()).stageWidths(16, 64).build()));
        Path h = dir.resolve("other.safetensors");
        Safetensors.write(h, sf.tensors(), meta);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Weights.read(h).config());
        assertTrue(msg(e).contains("the config or the tensors are damaged"), msg(e));
        // malformed config JSON in the metadata names the file
        meta.put("config", "{\"stageStrides\": [0, 2]");
        Safetensors.write(h, sf.tensors(), meta);
        e = assertThrows(IllegalArgumentException.class, () -> Weights.read(h).config());
        assertTrue(msg(e).startsWith(h.toString()) && msg(e).contains("malformed model config"), msg(e));
    }

    @Test
    void aNativeFileCarriesAChecksumAndAFlippedBitIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("w.safetensors");
        NFNet model = new NFNet(small(), 1);
        Weights.save(model, f, WeightFormat.NATIVE);
        assertTrue(Safetensors.read(f).metadata().containsKey(WeightChecks.CHECKSUM_KEY));
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length - 3] ^= 0x10;   // inside the last tensor's data
        Path g = dir.resolve("flipped.safetensors");
        Files.write(g, bytes);
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Weights.read(g));
        assertTrue(msg(e).startsWith(g.toString()) && msg(e).contains("checksum mismatch"), msg(e));
        // a native file written before checksums existed still loads
        SafetensorsFile sf = Safetensors.read(f);
        Map<String, String> meta = new LinkedHashMap<>(sf.metadata());
        meta.remove(WeightChecks.CHECKSUM_KEY);
        Path old = dir.resolve("old.safetensors");
        Safetensors.write(old, sf.tensors(), meta);
        NFNet loaded = dev.nfnets.core.NFNets.load(old);
        assertEquals(model.parameterCount(), loaded.parameterCount());
    }

    @Test
    void aPngDecompressionBombIsRefusedFromItsHeader(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("bomb.png");
        Files.write(png, greyPng(12_000, 12_000));   // 144 Mpx of zeros
        assertTrue(Files.size(png) < 1 << 20, "small file: " + Files.size(png));
        Images.ImageTooLargeException e = assertThrows(Images.ImageTooLargeException.class, () -> Images.read(png));
        assertTrue(msg(e).contains("12000 x 12000") && msg(e).contains(Limits.MAX_IMAGE_PIXELS), msg(e));
        // the limit is configurable: a 40x30 image under a 1000-pixel limit is refused, by default it decodes
        Path small = dir.resolve("small.png");
        ImageIO.write(new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB), "png", small.toFile());
        try (Limits.Scope s = Limits.use(NFNetsOptions.builder().maxImagePixels(1000).build())) {
            assertThrows(Images.ImageTooLargeException.class, () -> Images.read(small));
        }
        assertEquals(40, Images.read(small).getWidth());
    }

    @Test
    void nonFiniteLogitsGiveNoPrediction() {
        NFNet model = new NFNet(small(), 1);
        model.namedParameters().get("classifier.bias").value().putScalar(2, Float.NaN);
        var classifier = dev.nfnets.core.NFNets.classifier(model);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> classifier.classify(new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB), 3));
        assertTrue(msg(e).contains("non-finite logit (NaN for class 2)"), msg(e));
    }

    @Test
    void directoriesAndNamedPipesAreRefusedWithoutBlocking(@TempDir Path dir) throws Exception {
        IOException d = assertThrows(IOException.class, () -> Images.read(dir));
        assertTrue(msg(d).contains("is a directory, not an image file"), msg(d));
        IOException w = assertThrows(IOException.class, () -> Weights.read(dir));
        assertTrue(msg(w).contains("directory"), msg(w));
        Path fifo = dir.resolve("pipe.npz");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor(), "mkfifo failed");
        for (Path p : new Path[] {fifo}) {
            IOException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(IOException.class, () -> Weights.read(p)));
            assertTrue(msg(e).contains("a named pipe"), msg(e));
            IOException i = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(IOException.class, () -> Images.read(p)));
            assertTrue(msg(i).contains("a named pipe"), msg(i));
        }
    }

    @Test
    void aConfigWithAZeroStrideOrWidthNamesTheFieldAndTheFile(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("bad.json");
        Files.writeString(cfg, "{\"base\": \"mnist\", \"stemStrides\": [0, 1], \"stemChannels\": [8, 16]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConfigJson.read(cfg));
        assertTrue(msg(e).startsWith(cfg.toString()) && msg(e).contains("stemStrides[0] must be positive"), msg(e));
        Files.writeString(cfg, "{\"base\": \"mnist\", \"stageWidths\": [64, 0, 64, 64]");
        e = assertThrows(IllegalArgumentException.class, () -> ConfigJson.read(cfg));
        assertTrue(msg(e).startsWith(cfg.toString()) && msg(e).contains("not valid JSON"), msg(e));
        Files.writeString(cfg, "{\"base\": \"mnist\", \"stageWidths\": [65536, 65536, 65536]}");
        e = assertThrows(IllegalArgumentException.class, () -> ConfigJson.read(cfg));
        assertTrue(msg(e).startsWith(cfg.toString()) && msg(e).contains("Refusing to build it"), msg(e));
    }

    // ------------------------------------------------------------------ helpers

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = hay.length - needle.length; i >= 0; i--) {
            if (java.util.Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new IllegalStateException("pattern not found");
    }

    private static byte[] npyHeader(String descr, String shape) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String h = dict + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + h.length()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) h.length()).put(h.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** A valid 8-bit greyscale PNG of zeros: a small file for a large canvas. */
    static byte[] greyPng(int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(Deflater.BEST_COMPRESSION))) {
            byte[] row = new byte[width + 1];   // filter byte 0, then the samples
            for (int y = 0; y < height; y++) {
                z.write(row);
            }
        }
        chunk(out, "IDAT", idat.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
