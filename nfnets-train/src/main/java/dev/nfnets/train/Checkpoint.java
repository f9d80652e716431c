package dev.nfnets.train;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.io.NpyArray;
import dev.nfnets.core.io.Safetensors;
import dev.nfnets.core.io.SafetensorsFile;
import dev.nfnets.core.weights.WeightChecks;
import dev.nfnets.core.weights.ConfigJson;
import dev.nfnets.core.weights.Weights;
import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.optim.Optimizer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint in one safetensors file: the model ({@code model/<param>}), the optimizer state
 * ({@code optimizer/<entry>}) and the EMA ({@code ema/<param>}), with the step, the model config and the
 * training config in the metadata. Random state needs no saving: every draw is derived from the run seed
 * and the step or example index, so a resumed run continues exactly. The file is written atomically (temp
 * file, fsync, rename), so a crash during a save leaves the previous checkpoint intact.
 */
public final class Checkpoint {
    public static final String FORMAT = "nfnets-java-checkpoint";

    private Checkpoint() {
    }

    /** Metadata key of the frozen parameters' names, comma-separated. */
    static final String FROZEN_KEY = "frozen";

    /**
     * What {@link #read} returns.
     *
     * @param frozen   names of the parameters that were frozen (not trained) when the checkpoint was written
     * @param metadata the file's metadata (format, step, configs, and what the trainer added)
     */
    public record State(long step, TrainingConfig config, Map<String, INDArray> model, Map<String, INDArray> optimizer,
                        Map<String, INDArray> ema, java.util.Set<String> frozen, Map<String, String> metadata) {
    }

    public static void save(Path file, long step, TrainingConfig config, NFNet model, Optimizer optimizer, Ema ema)
            throws IOException {
        save(file, step, config, model, optimizer, ema, Map.of());
    }

    /** {@link #save(Path, long, TrainingConfig, NFNet, Optimizer, Ema)} with extra metadata entries. */
    public static void save(Path file, long step, TrainingConfig config, NFNet model, Optimizer optimizer, Ema ema,
                            Map<String, String> extra) throws IOException {
        Map<String, NpyArray> tensors = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> tensors.put("model/" + k, NpyArray.fromINDArray(p.value())));
        optimizer.state().forEach((k, v) -> tensors.put("optimizer/" + k, NpyArray.fromINDArray(v)));
        if (ema != null) {
            ema.shadow().forEach((k, v) -> tensors.put("ema/" + k, NpyArray.fromINDArray(v)));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(step));
        meta.put("config", ConfigJson.toJson(model.config()));
        meta.put("training", config.toJson());
        meta.putAll(extra);
        meta.put(FROZEN_KEY, String.join(",", model.namedParameters().entrySet().stream().filter(e -> e.getValue().isFrozen())
                .map(Map.Entry::getKey).toList()));
        meta.put(WeightChecks.CHECKSUM_KEY, WeightChecks.checksum(tensors));
        Safetensors.write(file, tensors, meta);
    }

    public static State read(Path file) throws IOException {
        SafetensorsFile f = Safetensors.read(file);
        Map<String, String> meta = f.metadata() == null ? Map.of() : f.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new IOException(file + " is not an nfnets-java training checkpoint (metadata format = "
                    + meta.get("format") + "); to start from plain weights use --init-from");
        }
        String stored = meta.get(WeightChecks.CHECKSUM_KEY);
        if (stored == null) {
            org.slf4j.LoggerFactory.getLogger(Checkpoint.class).warn("{}: no data checksum (written by an older version); "
                    + "its tensors are not verified", file);
        } else if (!stored.equalsIgnoreCase(WeightChecks.checksum(f.tensors()))) {
            throw new IOException(file + ": data checksum mismatch (metadata " + WeightChecks.CHECKSUM_KEY + " " + stored
                    + ", data " + WeightChecks.checksum(f.tensors()) + "): the checkpoint's tensors are damaged");
        }
        WeightChecks.requireFloatAndFinite(file.toString(), f.tensors(), f.tensors().keySet());
        Map<String, INDArray> model = new LinkedHashMap<>();
        Map<String, INDArray> opt = new LinkedHashMap<>();
        Map<String, INDArray> ema = new LinkedHashMap<>();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            f.tensors().forEach((k, v) -> {
                INDArray a = v.toINDArray();
                if (k.startsWith("model/")) {
                    model.put(k.substring(6), a);
                } else if (k.startsWith("optimizer/")) {
                    opt.put(k.substring(10), a);
                } else if (k.startsWith("ema/")) {
                    ema.put(k.substring(4), a);
                }
            });
        }
        long step;
        try {
            step = Long.parseLong(meta.get("step"));
        } catch (NumberFormatException | NullPointerException e) {
            throw new IOException(file + ": checkpoint metadata has no valid 'step'", e);
        }
        TrainingConfig training;
        try {
            training = TrainingConfig.fromJson(meta.get("training"));
        } catch (RuntimeException e) {
            throw new IOException(file + ": malformed training settings in the checkpoint's metadata: " + e.getMessage(), e);
        }
        String frozen = meta.getOrDefault(FROZEN_KEY, "");
        java.util.Set<String> frozenNames = frozen.isBlank() ? java.util.Set.of()
                : new java.util.LinkedHashSet<>(java.util.List.of(frozen.split(",")));
        return new State(step, training, model, opt, ema, frozenNames, Map.copyOf(meta));
    }

    /** Puts a checkpoint's parameters into {@code model}, checking names and shapes of everything first. */
    static void restoreModel(NFNet model, Map<String, INDArray> values, Path file) {
        Map<String, Parameter> params = model.namedParameters();
        StringBuilder problems = new StringBuilder();
        params.forEach((k, p) -> {
            INDArray v = values.get(k);
            if (v == null) {
                problems.append("\n  missing: ").append(k);
            } else if (!java.util.Arrays.equals(v.shape(), p.shape())) {
                problems.append("\n  mis-shaped: ").append(k).append(' ').append(java.util.Arrays.toString(v.shape()))
                        .append(" vs model ").append(java.util.Arrays.toString(p.shape()));
            }
        });
        values.keySet().stream().filter(k -> !params.containsKey(k)).forEach(k -> problems.append("\n  unexpected: ").append(k));
        if (problems.length() > 0) {
            throw new IllegalArgumentException("checkpoint " + file + " does not fit the model:" + problems);
        }
        params.forEach((k, p) -> p.assign(values.get(k)));
    }

    /** Exports the trained weights (EMA if given) as a native weight file that {@code NFNets.load} reads. */
    static void exportWeights(Path file, NFNet model, Ema ema) throws IOException {
        Map<String, INDArray> raw = ema == null ? null : ema.swapIn(model.namedParameters());
        try {
            Weights.save(model, file, dev.nfnets.core.weights.WeightFormat.NATIVE);
        } finally {
            if (raw != null) {
                Ema.restore(model.namedParameters(), raw);
            }
        }
    }
}
