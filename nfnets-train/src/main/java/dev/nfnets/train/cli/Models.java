package dev.nfnets.train.cli;

import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.weights.ConfigJson;
import dev.nfnets.core.weights.WeightMismatchException;
import dev.nfnets.core.weights.Weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

/** Resolves a {@code --model} argument: a variant name or a config JSON file (also on cluster workers). */
public final class Models {
    private Models() {
    }

    /**
     * A config JSON file, or a built-in name: {@code f0}..{@code f7}, {@code mnist}, and the same names as timm and
     * this library spell them ({@code dm_nfnet_f0}, {@code nfnet-f0}, {@code nfnet_f0}, {@code nfnet-mnist}).
     */
    public static NFNetConfig resolve(String model) throws IOException {
        Path p = Path.of(model);
        if (model.endsWith(".json") || Files.isRegularFile(p)) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("model config file not found: " + p);
            }
            return ConfigJson.read(p);
        }
        return NFNetConfig.byName(shortName(model));
    }

    /** {@code dm_nfnet_f3}, {@code nfnet-f3}, {@code nfnet_f3} -> {@code f3}; other names unchanged. */
    static String shortName(String model) {
        String n = model.trim().toLowerCase(Locale.ROOT);
        for (String prefix : List.of("dm_nfnet_", "dm-nfnet-", "nfnet-", "nfnet_")) {
            if (n.startsWith(prefix)) {
                return n.substring(prefix.length());
            }
        }
        return model;
    }

    /**
     * The mismatch with a first line that names the built-in config the file fits, if one does ("this file fits
     * F0 with 1000 classes and 3 input channels (--model f0)"); the tensor list then follows.
     */
    static RuntimeException withFitHint(WeightMismatchException e, Weights.WeightFile file, NFNetConfig model) {
        Optional<NFNetConfig> fit = Weights.knownConfigFor(file);
        if (fit.isEmpty()) {
            return e;
        }
        NFNetConfig c = fit.get();
        String option = shortName(c.name()).toLowerCase(Locale.ROOT);
        return new IllegalArgumentException(file.path() + " does not fit " + model.name() + ": this file fits " + c.name()
                + " with " + c.numClasses() + " classes and " + c.inChannels() + " input channel" + (c.inChannels() == 1 ? "" : "s")
                + " (--model " + option + ")\n" + e.getMessage(), e);
    }

    /** The distinct first two name parts of parameter names ({@code stem.conv0}, {@code stages.0}, {@code classifier}). */
    static List<String> namePrefixes(Collection<String> names) {
        TreeSet<String> out = new TreeSet<>();
        for (String n : names) {
            String[] parts = n.split("\\.");
            out.add(parts.length > 2 ? parts[0] + "." + parts[1] : parts[0]);
        }
        return List.copyOf(out);
    }
}
