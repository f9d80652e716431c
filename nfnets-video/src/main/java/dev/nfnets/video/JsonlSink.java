package dev.nfnets.video;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nfnets.core.inference.Prediction;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes one JSON object per classified frame:
 * {@code {"frame":12,"time_s":0.4,"inference_ms":31.2,"rate":29.8,"top":[{"class":3,"label":"dress","p":0.91},...]}}.
 * Lines go to a temporary file beside the target, which replaces the target when the stream ends.
 */
public final class JsonlSink implements StreamSink {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path target;
    private final Path temp;
    private final BufferedWriter out;

    /** @param target the .jsonl file; its folder must exist */
    public JsonlSink(Path target) throws IOException {
        this.target = target.toAbsolutePath();
        Path dir = this.target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--jsonl " + target + ": folder " + dir + " does not exist");
        }
        temp = dir.resolve("." + target.getFileName() + ".partial");
        out = Files.newBufferedWriter(temp, StandardCharsets.UTF_8);
    }

    @Override
    public boolean wantsFrames() {
        return false;
    }

    @Override
    public void prediction(StreamPrediction p) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("frame", p.frame());
        o.put("time_s", Math.round(p.timeSeconds() * 1e4) / 1e4);
        o.put("inference_ms", Math.round(p.inferenceMs() * 100) / 100.0);
        o.put("rate", Math.round(p.ratePerSecond() * 100) / 100.0);
        ArrayNode top = o.putArray("top");
        for (Prediction pr : p.top()) {
            top.addObject().put("class", pr.classIndex()).put("label", pr.label()).put("p", pr.probability());
        }
        out.write(JSON.writeValueAsString(o));
        out.write('\n');
    }

    @Override
    public void close() throws IOException {
        out.close();
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
