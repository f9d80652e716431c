package dev.nfnets.core.weights;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.io.HaikuPickle;
import dev.nfnets.core.io.Npz;
import dev.nfnets.core.io.NpyArray;
import dev.nfnets.core.io.Safetensors;
import dev.nfnets.core.io.SafetensorsFile;
import dev.nfnets.core.io.TensorFileKind;
import dev.nfnets.layers.Parameter;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Loads and saves NFNet weights. The format follows the file's content, not its name: a zip {@code .npz} or
 * DeepMind's published Haiku pickle ({@code F0_haiku.npz}, read by {@link HaikuPickle}) is DeepMind naming,
 * {@code .safetensors} is timm naming unless its metadata says {@code format: nfnets-java} (our own names,
 * with the model config in the metadata). A load checks the whole file against the model first and reports
 * every missing, unexpected and mis-shaped key together ({@link WeightMismatchException}); no parameter is
 * changed unless everything fits.
 *
 * <pre>{@code
 * NFNet model = new NFNet(NFNetConfig.f0());
 * Weights.load(model, Path.of("F0_haiku.npz"));                 // DeepMind names (the published pickle)
 * Weights.load(model, Path.of("dm_nfnet_f0.safetensors"));      // timm names
 * Weights.save(model, Path.of("mine.safetensors"), WeightFormat.NATIVE);
 * }</pre>
 */
public final class Weights {
    private static final Logger log = LoggerFactory.getLogger(Weights.class);
    public static final String NATIVE_FORMAT_TAG = "nfnets-java";
    /** Metadata key of a native file's class names, one per line. */
    public static final String CLASSES_KEY = "classes";

    private Weights() {
    }

    /** The tensors of a weight file, already read, with the naming they use. */
    public record WeightFile(Path path, WeightFormat format, Map<String, NpyArray> tensors, Map<String, String> metadata) {
        /**
         * The model config stored in a native file's metadata, if any. Errors name the file; a config that would
         * not fit in memory, or whose parameter count differs from the file's tensors, is refused here, before any
         * model is built from it ({@link WeightChecks#requireConfigMatchesTensors}).
         */
        public Optional<NFNetConfig> config() {
            String json = metadata.get("config");
            if (json == null) {
                return Optional.empty();
            }
            NFNetConfig c;
            try {
                c = ConfigJson.fromJson(json);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(path + ": malformed model config in the file's metadata: " + e.getMessage(), e);
            }
            WeightChecks.requireConfigMatchesTensors(c, this);
            return Optional.of(c);
        }

        /** The class names stored in a native file's metadata (written from {@link NFNet#classNames()}), if any. */
        public Optional<List<String>> classNames() {
            String lines = metadata.get(CLASSES_KEY);
            return lines == null || lines.isBlank() ? Optional.empty() : Optional.of(List.of(lines.split("\n", -1)));
        }
    }

    public static WeightFile read(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "weight file not found");
        }
        dev.nfnets.core.io.RegularFiles.require(path, "weight file");
        TensorFileKind kind = TensorFileKind.sniff(path);
        switch (kind) {
            case NPZ:
                return new WeightFile(path, WeightFormat.DEEPMIND, Npz.read(path), Map.of());
            case PICKLE:
                return new WeightFile(path, WeightFormat.DEEPMIND, HaikuPickle.read(path), Map.of());
            case SAFETENSORS: {
                SafetensorsFile f = Safetensors.read(path);
                Map<String, String> meta = f.metadata() == null ? Map.of() : f.metadata();
                WeightFormat fmt = NATIVE_FORMAT_TAG.equals(meta.get("format")) ? WeightFormat.NATIVE : WeightFormat.TIMM;
                verifyChecksum(path, fmt, f.tensors(), meta);
                return new WeightFile(path, fmt, f.tensors(), meta);
            }
            default:
                throw new IllegalArgumentException("cannot tell the weight format of " + path + " from its content ("
                        + (kind == TensorFileKind.NPY ? "a single .npy array" : "unrecognised first bytes")
                        + "): expected a zip .npz or a DeepMind Haiku pickle (DeepMind names) or a .safetensors file"
                        + " (timm or nfnets-java names)");
        }
    }

    /** Loads every parameter of {@code model} from {@code path}; see the class comment. */
    public static void load(NFNet model, Path path) throws IOException {
        load(model, read(path), name -> false);
    }

    /**
     * Loads all parameters except those whose name {@code skip} accepts (e.g. the classifier when fine-tuning
     * to a new number of classes); file entries for skipped parameters are ignored.
     */
    public static void load(NFNet model, Path path, Predicate<String> skip) throws IOException {
        load(model, read(path), skip);
    }

    public static void load(NFNet model, WeightFile file, Predicate<String> skip) {
        Map<String, WeightFormat.Entry> entries = file.format().entries(model);
        Map<String, NpyArray> tensors = file.tensors();
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        Map<String, String> externalToOurs = new LinkedHashMap<>();
        for (WeightFormat.Entry e : entries.values()) {
            externalToOurs.put(e.external(), e.ours());
            if (skip.test(e.ours())) {
                continue;
            }
            NpyArray t = tensors.get(e.external());
            if (t == null) {
                missing.add(e.external() + " " + Arrays.toString(e.externalShape()));
            } else if (!e.layout().accepts(t.shape(), e.ourShape())) {
                misShaped.add(e.external() + ": file " + Arrays.toString(t.shape()) + ", model expects "
                        + Arrays.toString(e.externalShape()));
            }
        }
        for (Map.Entry<String, NpyArray> t : tensors.entrySet()) {
            if (!externalToOurs.containsKey(t.getKey())) {
                unexpected.add(t.getKey() + " " + Arrays.toString(t.getValue().shape()));
            }
        }
        if (!missing.isEmpty() || !misShaped.isEmpty() || !unexpected.isEmpty()) {
            throw new WeightMismatchException(file.path().toString(), file.format(), missing, unexpected, misShaped);
        }
        List<String> loaded = new ArrayList<>();
        for (WeightFormat.Entry e : entries.values()) {
            if (!skip.test(e.ours())) {
                loaded.add(e.external());
            }
        }
        WeightChecks.requireFloatAndFinite(file.path().toString(), tensors, loaded);
        Map<String, Parameter> params = model.namedParameters();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (WeightFormat.Entry e : entries.values()) {
                if (skip.test(e.ours())) {
                    continue;
                }
                Parameter p = params.get(e.ours());
                INDArray ext = tensors.get(e.external()).toINDArray();
                p.assign(e.layout().fromExternal(ext, e.ourShape()).castTo(p.dataType()));
            }
        }
        boolean classifierLoaded = entries.values().stream().noneMatch(e -> e.ours().startsWith("classifier.") && skip.test(e.ours()));
        Optional<List<String>> names = file.classNames();
        if (classifierLoaded && names.isPresent()) {
            if (names.get().size() == model.config().numClasses()) {
                model.setClassNames(names.get());
            } else {
                log.warn("{} names {} classes but its classifier has {}: class names ignored", file.path(), names.get().size(),
                        model.config().numClasses());
            }
        }
        log.info("loaded {} tensors from {} ({} naming)", entries.size(), file.path(), file.format());
    }

    /**
     * A native file's stored checksum must match its data (a flipped bit is refused); native files written before
     * checksums were stored are read with a warning.
     */
    private static void verifyChecksum(Path path, WeightFormat fmt, Map<String, NpyArray> tensors, Map<String, String> meta)
            throws dev.nfnets.core.io.TensorFormatException {
        String stored = meta.get(WeightChecks.CHECKSUM_KEY);
        if (stored == null) {
            if (fmt == WeightFormat.NATIVE) {
                log.warn("{}: no data checksum in its metadata (written by an older version); its tensors are not verified", path);
            }
            return;
        }
        String actual = WeightChecks.checksum(tensors);
        if (!actual.equalsIgnoreCase(stored.trim())) {
            throw new dev.nfnets.core.io.TensorFormatException(path + ": data checksum mismatch (metadata " + WeightChecks.CHECKSUM_KEY
                    + " " + stored + ", data " + actual + "): the file's tensors are damaged");
        }
    }

    /** Saves all parameters in {@code format} (DEEPMIND writes .npz, the others .safetensors), atomically. */
    public static void save(NFNet model, Path path, WeightFormat format) throws IOException {
        Map<String, NpyArray> out = export(model, format);
        if (format == WeightFormat.DEEPMIND) {
            Npz.write(path, out);
        } else {
            Map<String, String> meta = new LinkedHashMap<>();
            if (format == WeightFormat.NATIVE) {
                meta.put("format", NATIVE_FORMAT_TAG);
                meta.put("config", ConfigJson.toJson(model.config()));
                model.classNames().ifPresent(names -> meta.put(CLASSES_KEY, String.join("\n", names)));
                meta.put(WeightChecks.CHECKSUM_KEY, WeightChecks.checksum(out));
            } else {
                meta.put("format", "pt");
            }
            Safetensors.write(path, out, meta);
        }
        log.info("saved {} tensors to {} ({} naming)", out.size(), path, format);
    }

    /**
     * The built-in config ({@code mnist}, {@code f0}..{@code f7}) whose parameters a file holds, with the file's
     * class count and input channels, told by the number of values and of tensors alone (nothing is allocated);
     * for hints such as "this file fits nfnet-f0". Empty when none fits.
     */
    public static Optional<NFNetConfig> knownConfigFor(WeightFile file) {
        long values = 0;
        for (NpyArray t : file.tensors().values()) {
            long n = 1;
            for (long d : t.shape()) {
                n *= d;
            }
            values += n;
        }
        List<NFNetConfig> known = new ArrayList<>();
        known.add(NFNetConfig.mnist());
        for (int k = 0; k <= 7; k++) {
            known.add(NFNetConfig.variant(k));
        }
        for (NFNetConfig base : known) {
            for (int channels : new int[] {base.inChannels(), base.inChannels() == 1 ? 3 : 1}) {
                NFNetConfig c = NFNetConfig.builder(base).inChannels(channels).numClasses(1).build();
                long one = dev.nfnets.core.ModelSummary.of(c, c.trainSize()).totalParams();
                long perClass = dev.nfnets.core.ModelSummary.of(NFNetConfig.builder(c).numClasses(2).build(), c.trainSize())
                        .totalParams() - one;
                long extra = values - one;
                if (extra >= 0 && perClass > 0 && extra % perClass == 0 && extra / perClass < Integer.MAX_VALUE) {
                    NFNetConfig fit = NFNetConfig.builder(c).numClasses((int) (1 + extra / perClass)).build();
                    if (tensorCount(fit) == file.tensors().size()) {
                        return Optional.of(fit);
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** How many parameter tensors a model of {@code c} has (every format stores one tensor per parameter). */
    static int tensorCount(NFNetConfig c) {
        int n = 3 * c.stemChannels().length;   // WS convolutions: kernel, gain, bias
        for (dev.nfnets.core.NFBlock.BlockSpec b : c.blocks()) {
            n += 4 * 3 + 1 + (b.projection() ? 3 : 0) + (b.seHidden() > 0 ? 4 : 0);
        }
        return n + (c.finalConvChannels() > 0 ? 3 : 0) + 2;
    }

    /** The model's parameters under {@code format}'s names and layouts. */
    public static Map<String, NpyArray> export(NFNet model, WeightFormat format) {
        Map<String, Parameter> params = model.namedParameters();
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (WeightFormat.Entry e : format.entries(model).values()) {
            out.put(e.external(), NpyArray.fromINDArray(e.layout().toExternal(params.get(e.ours()).value())));
        }
        return out;
    }

    /** Converts a map of tensors in {@code format}'s naming (e.g. DeepMind gradients) to our names and layouts. */
    public static Map<String, INDArray> toOurNames(NFNet model, WeightFormat format, Map<String, NpyArray> tensors) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (WeightFormat.Entry e : format.entries(model).values()) {
            NpyArray t = tensors.get(e.external());
            if (t != null) {
                out.put(e.ours(), e.layout().fromExternal(t.toINDArray(), e.ourShape()));
            }
        }
        return out;
    }
}
