package dev.nfnets.layers;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Wall-clock time of layers' forward and backward passes inside a real run, summed per layer kind and input
 * shape ({@code nfnets bench --profile}). ND4J's CPU ops are synchronous, so the time a layer's call takes is
 * the time its native ops and Java passes take.
 *
 * <p>Times are <em>self</em> times: a profiled layer called inside another profiled layer (squeeze-excite's
 * linear layers) is subtracted from its caller, so the entries add up to at most the wall time of the calls.
 * What is not inside any profiled layer (a block's residual arithmetic, the loss, the optimizer) is not here.
 *
 * <pre>{@code
 * LayerProfiler p = LayerProfiler.start();
 * model.forward(x, Mode.TRAIN); model.backward(g);
 * p.stop();
 * p.entries().forEach(System.out::println);
 * }</pre>
 *
 * <p>Off (no profiler started), a layer's cost is one volatile read per call.
 */
public final class LayerProfiler {
    /** Totals of one layer kind at one input shape. */
    public record Entry(String key, long forwardCalls, long forwardNanos, long backwardCalls, long backwardNanos) {
        public long totalNanos() {
            return forwardNanos + backwardNanos;
        }
    }

    /** An open call: its start and the time spent in profiled calls nested in it. */
    public static final class Frame {
        final long start = System.nanoTime();
        long nested;

        Frame() {
        }
    }

    private static volatile LayerProfiler active;

    private final Map<String, long[]> sums = new LinkedHashMap<>();
    private final ThreadLocal<ArrayDeque<Frame>> stack = ThreadLocal.withInitial(ArrayDeque::new);

    private LayerProfiler() {
    }

    /** Starts profiling every profiled layer's calls (on any thread) into a new profiler, replacing any active one. */
    public static LayerProfiler start() {
        LayerProfiler p = new LayerProfiler();
        active = p;
        return p;
    }

    /** Stops recording (if this profiler is the active one); its entries stay readable. */
    public void stop() {
        if (active == this) {
            active = null;
        }
    }

    /** Whether a profiler is recording. */
    public static boolean isActive() {
        return active != null;
    }

    /** Opens a call; null when no profiler is active. */
    public static Frame begin() {
        LayerProfiler p = active;
        if (p == null) {
            return null;
        }
        Frame f = new Frame();
        p.stack.get().push(f);
        return f;
    }

    /** Closes the call opened by {@link #begin} and adds its self time to {@code key}. */
    public static void end(Frame f, String key, boolean backward) {
        LayerProfiler p = active;
        if (f == null || p == null) {
            return;
        }
        long elapsed = System.nanoTime() - f.start;
        ArrayDeque<Frame> s = p.stack.get();
        popTo(s, f);
        if (!s.isEmpty()) {
            s.peek().nested += elapsed;
        }
        p.add(key, backward, elapsed - f.nested);
    }

    /** Closes a call that failed, recording nothing. */
    public static void abandon(Frame f) {
        LayerProfiler p = active;
        if (f != null && p != null) {
            popTo(p.stack.get(), f);
        }
    }

    private static void popTo(ArrayDeque<Frame> s, Frame f) {
        if (!s.contains(f)) {
            return;
        }
        while (s.pop() != f) {
            // frames opened after f and not closed
        }
    }

    private synchronized void add(String key, boolean backward, long nanos) {
        long[] v = sums.computeIfAbsent(key, k -> new long[4]);
        int i = backward ? 2 : 0;
        v[i]++;
        v[i + 1] += nanos;
    }

    /** The totals so far, largest forward + backward time first. */
    public synchronized List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : sums.entrySet()) {
            long[] v = e.getValue();
            out.add(new Entry(e.getKey(), v[0], v[1], v[2], v[3]));
        }
        out.sort(Comparator.comparingLong(Entry::totalNanos).reversed());
        return out;
    }

    /** Sum of all entries' self times, in nanoseconds. */
    public synchronized long totalNanos() {
        long t = 0;
        for (long[] v : sums.values()) {
            t += v[1] + v[3];
        }
        return t;
    }
}
