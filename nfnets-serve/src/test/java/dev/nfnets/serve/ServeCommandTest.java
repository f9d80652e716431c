package dev.nfnets.serve;

import dev.nfnets.train.cli.NFNetsCli;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `nfnets serve` and `nfnets serve-bench` through the CLI's ServiceLoader extensions. */
class ServeCommandTest {

    static String run(int expectedExit, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
        try {
            assertEquals(expectedExit, NFNetsCli.execute(args), () -> buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void serveAndServeBenchAreNFNetsSubcommands() {
        String help = run(0, "--help");
        assertTrue(help.contains("serve") && help.contains("serve-bench"), help);
        String serve = run(0, "serve", "--help");
        assertTrue(serve.contains("--max-batch") && serve.contains("--max-wait-ms") && serve.contains("127.0.0.1"), serve);
    }

    @Test
    void badOptionsAreNamedBeforeTheModelIsLoaded() {
        String out = run(1, "serve", "--weights", "does-not-exist.safetensors", "--max-batch", "0");
        assertTrue(out.contains("max-batch must be in 1..1024, got 0"), out);
        out = run(1, "serve", "--weights", "does-not-exist.safetensors", "--port", "70000");
        assertTrue(out.contains("port must be in 0..65535, got 70000"), out);
        out = run(1, "serve", "--weights", "does-not-exist.safetensors", "--max-body-mb", "-1");
        assertTrue(out.contains("--max-body-mb"), out);
        out = run(1, "serve", "--weights", "does-not-exist.safetensors");
        assertTrue(out.contains("does-not-exist.safetensors"), out);
    }

    @Test
    void serveBenchMeasuresEachCellAndStopsByItself() {
        String out = run(0, "serve-bench", "--model", "mnist", "--clients", "3", "--max-batch", "1,4",
                "--requests", "9", "--warmup", "0", "--max-seconds", "20");
        // One row per batching setting: 9 requests answered, none failed.
        String[] rows = out.lines().filter(l -> l.matches("\\s+[14]\\s+3\\s+9\\s+0\\s.*")).toArray(String[]::new);
        assertEquals(2, rows.length, out);
    }
}
