package dev.nfnets.train.listen;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * A one-line terminal progress bar over all steps (epoch, percentage, bar, steps, elapsed and remaining time,
 * steps/s, smoothed loss and accuracy, images/s) that stays on the last line: while it is shown, every line
 * written to {@code System.out} or {@code System.err} (log lines, the command's own output) is printed above it,
 * as tqdm and DJL do. The bar is redrawn in place with a carriage return and padded to a constant width, so
 * it keeps its place and its width; it is cut to the terminal's width (less one column, so the terminal never
 * wraps it), dropping the least important fields first and keeping at least {@value #MIN_BAR} bar cells.
 * No escape sequences are written. Use it only when the output is a terminal: the command line shows it
 * when {@code System.console()} exists and logs lines otherwise ({@link LoggingListener}).
 */
public final class ProgressBarListener implements TrainingListener {
    /** The narrowest bar drawn, in cells. */
    static final int MIN_BAR = 10;
    private static final int MAX_BAR = 40;
    private final PrintStream terminal;
    private final IntSupplier columns;
    private final boolean captureSystemStreams;
    private final long redrawNanos;
    private final Object lock = new Object();
    private PrintStream savedOut;
    private PrintStream savedErr;
    private Above aboveOut;
    private Above aboveErr;
    private String shown = "";
    private long startStep;
    private long totalSteps;
    private long startNanos;
    private long lastDraw;
    private StepMetrics last;
    private double smoothLoss = Double.NaN;
    private double smoothAcc = Double.NaN;
    private int width;
    private long widthCheckedAt;

    /** A bar on {@code System.err} that prints the process's other output above itself; width from the terminal. */
    public ProgressBarListener() {
        this(System.err, TerminalWidth::columns, true, 250);
    }

    /**
     * @param terminal             where the bar is drawn
     * @param columns              the terminal's width in columns (asked again every few seconds)
     * @param captureSystemStreams route {@code System.out} and {@code System.err} through the bar while it is shown,
     *                             so that what they print appears above it
     * @param redrawMillis         least time between two redraws (0: every step)
     */
    public ProgressBarListener(PrintStream terminal, IntSupplier columns, boolean captureSystemStreams, long redrawMillis) {
        this.terminal = terminal;
        this.columns = columns;
        this.captureSystemStreams = captureSystemStreams;
        this.redrawNanos = redrawMillis * 1_000_000L;
    }

    @Override
    public void onStart(long startStep, long totalSteps) {
        synchronized (lock) {
            this.startStep = startStep;
            this.totalSteps = totalSteps;
            this.startNanos = System.nanoTime();
            if (captureSystemStreams && savedOut == null) {
                savedOut = System.out;
                savedErr = System.err;
                aboveOut = new Above(savedOut);
                aboveErr = new Above(savedErr);
                System.setOut(new PrintStream(aboveOut, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(aboveErr, true, StandardCharsets.UTF_8));
            }
            redraw(true);
        }
    }

    @Override
    public void onStep(StepMetrics m) {
        synchronized (lock) {
            smoothLoss = Double.isNaN(smoothLoss) ? m.loss() : 0.95 * smoothLoss + 0.05 * m.loss();
            smoothAcc = Double.isNaN(smoothAcc) ? m.accuracy() : 0.95 * smoothAcc + 0.05 * m.accuracy();
            last = m;
            redraw(m.step() >= m.totalSteps());
        }
    }

    @Override
    public void onEnd(long step, Throwable error) {
        synchronized (lock) {
            redraw(true);
            if (!shown.isEmpty()) {
                terminal.print('\n');
                terminal.flush();
                shown = "";
            }
            if (savedOut != null) {
                System.out.flush();
                System.err.flush();
                aboveOut.close();
                aboveErr.close();
                System.setOut(savedOut);
                System.setErr(savedErr);
                savedOut = null;
                savedErr = null;
            }
        }
    }

    private void redraw(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < redrawNanos) {
            return;
        }
        lastDraw = now;
        if (width == 0 || now - widthCheckedAt > 5_000_000_000L) {
            width = Math.max(20, columns.getAsInt());
            widthCheckedAt = now;
        }
        String line = render(width - 1);
        // pad to what was shown, so that a shorter line leaves nothing of the previous one behind
        String padded = line.length() < shown.length() ? line + " ".repeat(shown.length() - line.length()) : line;
        terminal.print('\r' + padded);
        terminal.flush();
        shown = line;
    }

    /** Clears the bar's line so that a line of other output can take its place. */
    private void clear() {
        if (!shown.isEmpty()) {
            terminal.print('\r' + " ".repeat(shown.length()) + '\r');
            terminal.flush();
        }
    }

    /** The bar's text in at most {@code max} characters; its length depends only on {@code max} and the run. */
    String render(int max) {
        long step = last == null ? startStep : last.step();
        int epoch = last == null ? 0 : last.epoch() + 1;
        double fraction = totalSteps <= 0 ? 0 : Math.min(1.0, (double) step / totalSteps);
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        double rate = step > startStep && elapsed > 0 ? (step - startStep) / elapsed : Double.NaN;
        double remaining = Double.isNaN(rate) ? Double.NaN : (totalSteps - step) / rate;
        int digits = Long.toString(Math.max(totalSteps, 1)).length();
        // fields in order of display with a priority each (lower = dropped first)
        List<String[]> fields = new ArrayList<>();
        fields.add(new String[] {" " + pad(Long.toString(step), digits) + "/" + totalSteps, "9"});
        fields.add(new String[] {" " + time(elapsed) + "<" + time(remaining), "8"});
        fields.add(new String[] {" " + (Double.isNaN(rate) ? "    ?" : String.format(Locale.ROOT, "%5.1f", Math.min(rate, 999.9)))
                + " steps/s", "4"});
        fields.add(new String[] {" loss " + (Double.isNaN(smoothLoss) ? "    ?" : String.format(Locale.ROOT, "%5.3f",
                Math.min(smoothLoss, 9.999))), "7"});
        fields.add(new String[] {" acc " + (Double.isNaN(smoothAcc) ? "    ?" : String.format(Locale.ROOT, "%5.3f", smoothAcc)), "6"});
        fields.add(new String[] {" " + (last == null ? "    ?" : String.format(Locale.ROOT, "%5.0f", Math.min(last.imagesPerSecond(),
                99999))) + " img/s", "3"});
        String head = "ep " + pad(Integer.toString(epoch), 2) + " " + String.format(Locale.ROOT, "%3.0f%%", 100 * fraction) + " |";
        int tailLength = fields.stream().mapToInt(f -> f[0].length()).sum() + 1;
        while (head.length() + MIN_BAR + tailLength > max && !fields.isEmpty()) {
            String[] lowest = fields.get(0);
            for (String[] f : fields) {
                if (f[1].compareTo(lowest[1]) < 0) {
                    lowest = f;
                }
            }
            fields.remove(lowest);
            tailLength -= lowest[0].length();
        }
        int cells = Math.max(MIN_BAR, Math.min(MAX_BAR, max - head.length() - tailLength));
        int full = (int) Math.floor(fraction * cells);
        StringBuilder sb = new StringBuilder(head);
        sb.append("#".repeat(full));
        if (full < cells) {
            sb.append(fraction * cells - full >= 0.5 ? '>' : '-');
            sb.append("-".repeat(cells - full - 1));
        }
        sb.append('|');
        fields.forEach(f -> sb.append(f[0]));
        return sb.length() > max ? sb.substring(0, Math.max(0, max)) : sb.toString();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
    }

    private static String time(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "--:--";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }

    /** Collects written bytes into lines and prints each complete line above the bar. */
    private final class Above extends OutputStream {
        private final PrintStream target;
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

        Above(PrintStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) {
            synchronized (lock) {
                pending.write(b);
                if (b == '\n') {
                    emit();
                }
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            synchronized (lock) {
                int start = off;
                for (int i = off; i < off + len; i++) {
                    if (b[i] == '\n') {
                        pending.write(b, start, i + 1 - start);
                        emit();
                        start = i + 1;
                    }
                }
                pending.write(b, start, off + len - start);
            }
        }

        @Override
        public void flush() {
            // a partial line waits for its end, so the bar is not torn apart
        }

        @Override
        public void close() {
            synchronized (lock) {
                if (pending.size() > 0) {
                    pending.write('\n');
                    emit();
                }
            }
        }

        private void emit() {
            clear();
            target.write(pending.toByteArray(), 0, pending.size());
            target.flush();
            pending.reset();
            if (!shown.isEmpty()) {
                String line = shown;
                terminal.print('\r' + line);
                terminal.flush();
            }
        }
    }
}
