package dev.nfnets.core.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nfnets.core.NFNetConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * {@link NFNetConfig} as JSON: every record component by name, {@code gamma} null for "the table's value".
 * Reading starts from F0 and overrides what the JSON names, so a config file may give only what differs;
 * unknown keys are errors.
 */
public final class ConfigJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ConfigJson() {
    }

    public static String toJson(NFNetConfig c) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("name", c.name());
        n.put("inChannels", c.inChannels());
        n.put("numClasses", c.numClasses());
        n.set("stemChannels", ints(c.stemChannels()));
        n.set("stemStrides", ints(c.stemStrides()));
        n.set("stageWidths", ints(c.stageWidths()));
        n.set("stageDepths", ints(c.stageDepths()));
        n.set("stageStrides", ints(c.stageStrides()));
        n.put("groupWidth", c.groupWidth());
        n.put("bottleneckRatio", c.bottleneckRatio());
        n.put("alpha", c.alpha());
        n.put("seRatio", c.seRatio());
        n.put("activation", c.activation());
        if (Double.isNaN(c.gamma())) {
            n.putNull("gamma");
        } else {
            n.put("gamma", c.gamma());
        }
        n.put("finalConvChannels", c.finalConvChannels());
        n.put("dropRate", c.dropRate());
        n.put("stochDepthRate", c.stochDepthRate());
        n.put("trainSize", c.trainSize());
        n.put("testSize", c.testSize());
        n.set("randAugment", ints(c.randAugment()));
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ArrayNode ints(int[] a) {
        ArrayNode arr = MAPPER.createArrayNode();
        for (int v : a) {
            arr.add(v);
        }
        return arr;
    }

    public static NFNetConfig read(Path file) throws IOException {
        try {
            dev.nfnets.core.io.RegularFiles.require(file, "model config file");
            NFNetConfig c = fromJson(Files.readString(file));
            WeightChecks.requireModelFits(c, file.toString());
            return c;
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(file.toString())) {
                throw e;
            }
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static NFNetConfig fromJson(String json) {
        JsonNode n;
        try {
            n = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("config is not valid JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("config JSON must be an object");
        }
        NFNetConfig base = n.has("base") ? NFNetConfig.byName(n.get("base").asText()) : NFNetConfig.f0();
        NFNetConfig.Builder b = NFNetConfig.builder(base);
        Iterator<String> names = n.fieldNames();
        while (names.hasNext()) {
            String k = names.next();
            JsonNode v = n.get(k);
            switch (k) {
                case "base" -> { }
                case "name" -> b.name(v.asText());
                case "inChannels" -> b.inChannels(v.asInt());
                case "numClasses" -> b.numClasses(v.asInt());
                case "stemChannels" -> b.stem(intArray(k, v), n.has("stemStrides") ? intArray("stemStrides", n.get("stemStrides")) : base.stemStrides());
                case "stemStrides" -> { }
                case "stageWidths" -> b.stageWidths(intArray(k, v));
                case "stageDepths" -> b.stageDepths(intArray(k, v));
                case "stageStrides" -> b.stageStrides(intArray(k, v));
                case "groupWidth" -> b.groupWidth(v.asInt());
                case "bottleneckRatio" -> b.bottleneckRatio(v.asDouble());
                case "alpha" -> b.alpha(v.asDouble());
                case "seRatio" -> b.seRatio(v.asDouble());
                case "activation" -> b.activation(v.asText());
                case "gamma" -> { }
                case "finalConvChannels" -> b.finalConvChannels(v.asInt());
                case "dropRate" -> b.dropRate(v.asDouble());
                case "stochDepthRate" -> b.stochDepthRate(v.asDouble());
                case "trainSize" -> b.trainSize(v.asInt());
                case "testSize" -> b.testSize(v.asInt());
                case "randAugment" -> {
                    int[] ra = intArray(k, v);
                    if (ra.length != 2) {
                        throw new IllegalArgumentException("randAugment must be [layers, magnitude]");
                    }
                    b.randAugment(ra[0], ra[1]);
                }
                default -> throw new IllegalArgumentException("unknown config key '" + k + "'");
            }
        }
        if (n.has("stemStrides") && !n.has("stemChannels")) {
            b.stem(base.stemChannels(), intArray("stemStrides", n.get("stemStrides")));
        }
        if (n.has("gamma") && !n.get("gamma").isNull()) {
            b.gamma(n.get("gamma").asDouble());
        }
        return b.build();
    }

    private static int[] intArray(String key, JsonNode v) {
        if (!v.isArray()) {
            throw new IllegalArgumentException("config key '" + key + "' must be an array of integers");
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            if (!v.get(i).canConvertToInt()) {
                throw new IllegalArgumentException("config key '" + key + "' must be an array of integers");
            }
            out[i] = v.get(i).asInt();
        }
        return out;
    }
}
