package dev.nfnets.train.listen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ProgressBarListenerTest {

    /** What a terminal shows after {@code out}: carriage returns go back to column 0 and overwrite. */
    static List<String> screen(String out) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        int col = 0;
        for (char c : out.toCharArray()) {
            if (c == '\n') {
                lines.add(line.toString().stripTrailing());
                line.setLength(0);
                col = 0;
            } else if (c == '\r') {
                col = 0;
            } else {
                if (col < line.length()) {
                    line.setCharAt(col, c);
                } else {
                    line.append(c);
                }
                col++;
            }
        }
        if (line.length() > 0) {
            lines.add(line.toString().stripTrailing());
        }
        return lines;
    }

    /** Every bar drawn: the text after each carriage return that starts with "ep". */
    static List<String> bars(String out) {
        List<String> bars = new ArrayList<>();
        for (String part : out.split("[\r\n]")) {
            if (part.startsWith("ep ")) {
                bars.add(part.stripTrailing());
            }
        }
        return bars;
    }

    @Test
    void logLinesPrintAboveABarOfConstantWidthAt80Columns() {
        ByteArrayOutputStream term = new ByteArrayOutputStream();
        PrintStream terminal = new PrintStream(term, true, StandardCharsets.UTF_8);
        ProgressBarListener bar = new ProgressBarListener(terminal, () -> 80, true, 0);
        PrintStream out = System.out;
        PrintStream err = System.err;
        try {
            // the listener's streams replace these, and what they print goes through the bar's terminal here
            System.setOut(terminal);
            System.setErr(terminal);
            bar.onStart(0, 200);
            for (int step = 1; step <= 200; step++) {
                bar.onStep(new StepMetrics(step, 200, (step - 1) / 100, 3.0 / step, step / 200.0, 0.1, 1234, 0, 0, step));
                if (step % 100 == 0) {
                    System.err.println("epoch " + step / 100 + " done: test (EMA) top-1 " + (79 + step / 100) + ".00%");
                }
                if (step == 150) {
                    System.out.print("partial ");
                    System.out.println("stdout line");
                }
            }
            bar.onEnd(200, null);
            assertEquals(terminal, System.out, "System.out is restored at the end");
            assertEquals(terminal, System.err);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String text = term.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("\u001b"), "no escape sequences");
        List<String> screen = screen(text);
        assertEquals(List.of("epoch 1 done: test (EMA) top-1 80.00%", "partial stdout line", "epoch 2 done: test (EMA) top-1 81.00%"),
                screen.subList(0, 3), text);
        assertEquals(4, screen.size(), screen.toString());
        assertTrue(screen.get(3).startsWith("ep  2 100% |########################################|") || screen.get(3).contains("100% |###"),
                screen.get(3));
        List<String> drawn = bars(text);
        Set<Integer> widths = new HashSet<>();
        drawn.forEach(b -> widths.add(b.length()));
        assertEquals(1, widths.size(), "every bar has the same width: " + widths + " " + new HashSet<>(drawn));
        int width = widths.iterator().next();
        assertTrue(width <= 79, "fits 80 columns without wrapping: " + width);
        String last = drawn.get(drawn.size() - 1);
        Matcher cells = Pattern.compile("\\|([#>-]+)\\|").matcher(last);
        assertTrue(cells.find(), last);
        assertTrue(cells.group(1).length() >= ProgressBarListener.MIN_BAR, last);
        assertTrue(last.contains(" 200/200") && last.contains("loss") && last.contains("acc"), last);
        assertFalse(last.contains("steps/sep"), last);
    }

    @Test
    void narrowTerminalsDropFieldsButKeepTheBar() {
        ProgressBarListener bar = new ProgressBarListener(new PrintStream(new ByteArrayOutputStream()), () -> 40, false, 0);
        bar.onStart(0, 5000);
        bar.onStep(new StepMetrics(2500, 5000, 3, 0.5, 0.9, 0.1, 800, 0, 0, 10));
        for (int max : new int[] {30, 39, 59, 79, 119, 199}) {
            String s = bar.render(max);
            assertTrue(s.length() <= max, max + ": " + s);
            Matcher cells = Pattern.compile("\\|([#>-]+)\\|").matcher(s);
            assertTrue(cells.find(), s);
            assertTrue(cells.group(1).length() >= ProgressBarListener.MIN_BAR, s);
            assertTrue(s.startsWith("ep  4  50%"), s);
        }
        assertTrue(bar.render(199).contains("img/s"));
        assertFalse(bar.render(59).contains("img/s"));
    }

    @Test
    void terminalWidthParsing() {
        assertEquals(132, TerminalWidth.parse(" 132 "));
        assertEquals(null, TerminalWidth.parse("0"));
        assertEquals(null, TerminalWidth.parse("wide"));
        assertEquals(null, TerminalWidth.parse(null));
    }

    /** The real thing: a JVM in a pseudo-terminal (util-linux {@code script}) 80 columns wide. */
    @Test
    void inAPseudoTerminal(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script is not installed");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = "stty cols 80 rows 24 2>/dev/null; exec '" + java + "' -Xmx256m -cp '" + System.getProperty("java.class.path")
                + "' " + ProgressBarDemoMain.class.getName();
        Path log = dir.resolve("typescript");
        Process p = new ProcessBuilder("/usr/bin/script", "-qec", cmd, log.toString())
                .redirectInput(ProcessBuilder.Redirect.PIPE).redirectOutput(dir.resolve("out").toFile())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "finished");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("out")));
        String text = Files.readString(log, StandardCharsets.UTF_8).replace("\r\n", "\n");
        // script writes a header and footer line around the session with -q omitted; keep the session itself
        List<String> screen = screen(text);
        List<String> logLines = screen.stream().filter(l -> l.contains("test (EMA)") || l.startsWith("stdout line")
                || l.equals("final result")).toList();
        assertEquals(5, logLines.size(), logLines.toString());
        assertTrue(logLines.get(0).endsWith("epoch 1 done: test (EMA) top-1 80.00%"), logLines.toString());
        assertEquals("stdout line 1", logLines.get(1));
        assertTrue(logLines.get(2).endsWith("epoch 2 done: test (EMA) top-1 81.00%"), logLines.toString());
        assertEquals("stdout line 2", logLines.get(3));
        assertEquals("final result", logLines.get(4));
        List<String> drawn = bars(text);
        assertFalse(drawn.isEmpty(), text);
        Set<Integer> widths = new HashSet<>();
        drawn.forEach(b -> widths.add(b.length()));
        assertEquals(1, widths.size(), "constant width: " + drawn);
        assertTrue(widths.iterator().next() <= 79, drawn.toString());
    }
}
