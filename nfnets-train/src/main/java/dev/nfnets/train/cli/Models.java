package dev.nfnets.train.cli;

import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.weights.ConfigJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves a {@code --model} argument: a variant name or a config JSON file (also on cluster workers). */
public final class Models {
    private Models() {
    }

    public static NFNetConfig resolve(String model) throws IOException {
        Path p = Path.of(model);
        if (model.endsWith(".json") || Files.isRegularFile(p)) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("model config file not found: " + p);
            }
            return ConfigJson.read(p);
        }
        return NFNetConfig.byName(model);
    }
}
