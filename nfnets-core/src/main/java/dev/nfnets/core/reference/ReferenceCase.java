package dev.nfnets.core.reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nfnets.core.NFBlock;
import dev.nfnets.core.NFNetConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A reference case folder (layout of {@code fixtures/nfnet-micro/s64}): {@code meta.json} describes the
 * network and lists the files by relative path. Everything about the network is read from meta.json, so
 * any configuration it can describe (up to full F0 at any size) can be checked.
 */
public final class ReferenceCase {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path dir;
    private final JsonNode meta;
    private final NFNetConfig config;

    private ReferenceCase(Path dir, JsonNode meta, NFNetConfig config) {
        this.dir = dir;
        this.meta = meta;
        this.config = config;
    }

    public static ReferenceCase open(Path dir) throws IOException {
        Path metaFile = dir.resolve("meta.json");
        if (!Files.isRegularFile(metaFile)) {
            throw new NoSuchFileException(metaFile.toString(), null, "a reference case folder needs a meta.json");
        }
        JsonNode meta;
        try {
            meta = MAPPER.readTree(metaFile.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(metaFile + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode cfg = meta.path("config");
        if (cfg.isMissingNode()) {
            throw new IllegalArgumentException(metaFile + ": no 'config' section");
        }
        NFNetConfig config;
        try {
            config = parseConfig(cfg);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(metaFile + ": " + e.getMessage(), e);
        }
        dev.nfnets.core.weights.WeightChecks.requireModelFits(config, metaFile.toString());
        return new ReferenceCase(dir, meta, config);
    }

    public Path dir() {
        return dir;
    }

    public JsonNode meta() {
        return meta;
    }

    public NFNetConfig config() {
        return config;
    }

    public String name() {
        return meta.path("case").asText(dir.getFileName().toString());
    }

    /** The file listed in meta.json's {@code files} section whose name ends with {@code suffix}, if present on disk. */
    public Optional<Path> file(String suffix) {
        Iterator<String> it = meta.path("files").fieldNames();
        while (it.hasNext()) {
            String rel = it.next();
            if (rel.endsWith(suffix)) {
                Path p = dir.resolve(rel).normalize();
                return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
            }
        }
        Path p = dir.resolve(suffix);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    public double labelSmoothing() {
        return meta.path("loss").path("label_smoothing").asDouble(0.0);
    }

    public JsonNode optimizer() {
        return meta.path("optimizer");
    }

    /** Differences between the block plan in meta.json (if listed) and the one our config derives. */
    public List<String> blockPlanMismatches() {
        List<String> out = new ArrayList<>();
        JsonNode blocks = meta.path("config").path("blocks");
        if (!blocks.isArray()) {
            return out;
        }
        List<NFBlock.BlockSpec> ours = config.blocks();
        if (ours.size() != blocks.size()) {
            out.add("meta.json lists " + blocks.size() + " blocks, config derives " + ours.size());
            return out;
        }
        for (int i = 0; i < ours.size(); i++) {
            NFBlock.BlockSpec s = ours.get(i);
            JsonNode b = blocks.get(i);
            check(out, i, "in_ch", b, s.in());
            check(out, i, "out_ch", b, s.out());
            check(out, i, "mid_width", b, s.mid());
            check(out, i, "groups", b, s.groups());
            check(out, i, "stride", b, s.stride());
            check(out, i, "se_hidden", b, s.seHidden());
            if (b.has("beta") && Math.abs(b.get("beta").asDouble() - s.beta()) > 1e-9) {
                out.add("block " + i + " beta: meta " + b.get("beta").asDouble() + ", ours " + s.beta());
            }
        }
        return out;
    }

    private static void check(List<String> out, int i, String key, JsonNode b, int ours) {
        if (b.has(key) && b.get(key).asInt() != ours) {
            out.add("block " + i + " " + key + ": meta " + b.get(key).asInt() + ", ours " + ours);
        }
    }

    static NFNetConfig parseConfig(JsonNode c) {
        JsonNode stem = c.path("stem");
        int[] stemCh = ints(stem, "channels");
        JsonNode after = stem.path("activation_after");
        for (int i = 0; i < after.size(); i++) {
            boolean expected = i < after.size() - 1;
            if (after.get(i).asBoolean() != expected) {
                throw new IllegalArgumentException("unsupported stem: an activation after every stem conv but the last is required");
            }
        }
        if (stem.has("kernel") && stem.get("kernel").asInt() != 3) {
            throw new IllegalArgumentException("unsupported stem kernel " + stem.get("kernel").asInt() + " (3 required)");
        }
        JsonNode se = c.path("se");
        if (se.has("activation") && !se.get("activation").asText().equalsIgnoreCase("relu")) {
            throw new IllegalArgumentException("unsupported SE activation '" + se.get("activation").asText() + "' (relu)");
        }
        if (se.has("gain") && se.get("gain").asDouble() != 2.0) {
            throw new IllegalArgumentException("unsupported SE gain " + se.get("gain").asDouble() + " (2.0)");
        }
        JsonNode ws = c.path("weight_standardisation");
        if (ws.has("eps") && ws.get("eps").asDouble() != 1e-4) {
            throw new IllegalArgumentException("unsupported WS eps " + ws.get("eps").asDouble() + " (1e-4)");
        }
        if (c.has("skip_gain") && !c.get("skip_gain").asBoolean()) {
            throw new IllegalArgumentException("networks without skip gains are not supported");
        }
        JsonNode act = c.path("activation");
        String actName = act.isObject() ? act.path("name").asText("gelu") : act.asText("gelu");
        String a = actName.toLowerCase(Locale.ROOT);
        String fn = a.startsWith("gelu") ? (a.contains("erf") || a.contains("exact") ? "gelu_erf" : "gelu")
                : a.split("[ ,(]")[0];
        NFNetConfig.Builder b = NFNetConfig.builder(NFNetConfig.f0())
                .name(c.path("variant").asText("reference"))
                .inChannels(c.path("input").path("channels").asInt(3))
                .numClasses(req(c, "num_classes").asInt())
                .stem(stemCh, ints(stem, "strides"))
                .stageWidths(ints(c, "stage_widths"))
                .stageDepths(ints(c, "stage_depths"))
                .stageStrides(ints(c, "stage_strides"))
                .groupWidth(req(c, "group_width").asInt())
                .bottleneckRatio(req(c, "bottleneck_ratio").asDouble())
                .alpha(req(c, "alpha").asDouble())
                .seRatio(se.path("ratio").asDouble(0.5))
                .activation(fn)
                .finalConvChannels(c.path("final_conv").path("channels").asInt(0))
                .dropRate(c.path("dropout_rate").asDouble(0))
                .stochDepthRate(c.path("stochastic_depth_rate").asDouble(0));
        if (act.isObject() && act.has("gamma")) {
            b.gamma(act.get("gamma").asDouble());
        }
        return b.build();
    }

    private static JsonNode req(JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("config has no '" + key + "'");
        }
        return v;
    }

    private static int[] ints(JsonNode c, String key) {
        JsonNode v = req(c, key);
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i).asInt();
        }
        return out;
    }
}
