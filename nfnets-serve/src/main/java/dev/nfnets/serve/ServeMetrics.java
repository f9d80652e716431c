package dev.nfnets.serve;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters in the Prometheus text exposition format (version 0.0.4): requests by route and
 * status, refusals by error code, batch sizes, request and inference latency. Hand-written because it is a
 * few counters and three histograms; a client library would bring its own registry and threads for that.
 * All methods are thread-safe and allocation-free on the hot path except the first use of a label pair.
 */
public final class ServeMetrics {
    private static final double[] LATENCY_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Histogram requestSeconds = new Histogram(LATENCY_BUCKETS);
    private final Histogram inferenceSeconds = new Histogram(LATENCY_BUCKETS);
    private final Histogram batchSizes = new Histogram(BATCH_BUCKETS);
    private final LongAdder images = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile IntSupplier queueDepth = () -> 0;

    void queueDepth(IntSupplier s) {
        queueDepth = s;
    }

    AtomicInteger inFlight() {
        return inFlight;
    }

    /** One answered request: its route template (not the raw path, so label values stay few), status, duration. */
    void request(String route, int status, double seconds) {
        requests.computeIfAbsent(route + "\u0000" + status, k -> new LongAdder()).increment();
        if (route.equals("/v1/classify")) {
            requestSeconds.observe(seconds);
        }
    }

    void error(String code) {
        errors.computeIfAbsent(code, k -> new LongAdder()).increment();
    }

    void batch(int size, double seconds) {
        batchSizes.observe(size);
        inferenceSeconds.observe(seconds);
        images.add(size);
    }

    /** Total requests answered so far with {@code status} on {@code route} (tests). */
    public long requests(String route, int status) {
        LongAdder a = requests.get(route + "\u0000" + status);
        return a == null ? 0 : a.sum();
    }

    /** Images that went through the model so far. */
    public long imagesClassified() {
        return images.sum();
    }

    /** Forward passes (batches) run so far. */
    public long batches() {
        return batchSizes.count.sum();
    }

    /** The exposition text served at {@code /metrics}. */
    public String render() {
        StringBuilder b = new StringBuilder(4096);
        b.append("# HELP nfnets_requests_total HTTP requests answered, by route and status.\n");
        b.append("# TYPE nfnets_requests_total counter\n");
        requests.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            String[] k = e.getKey().split("\u0000");
            b.append("nfnets_requests_total{route=\"").append(escape(k[0])).append("\",status=\"").append(k[1])
                    .append("\"} ").append(e.getValue().sum()).append('\n');
        });
        b.append("# HELP nfnets_errors_total Refused or failed requests, by error code.\n");
        b.append("# TYPE nfnets_errors_total counter\n");
        errors.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> b.append("nfnets_errors_total{code=\"")
                .append(escape(e.getKey())).append("\"} ").append(e.getValue().sum()).append('\n'));
        b.append("# HELP nfnets_images_classified_total Images that went through the model.\n");
        b.append("# TYPE nfnets_images_classified_total counter\n");
        b.append("nfnets_images_classified_total ").append(images.sum()).append('\n');
        b.append("# HELP nfnets_queue_depth Images waiting for the model.\n# TYPE nfnets_queue_depth gauge\n");
        b.append("nfnets_queue_depth ").append(queueDepth.getAsInt()).append('\n');
        b.append("# HELP nfnets_requests_in_flight Classify requests being read, decoded or classified.\n");
        b.append("# TYPE nfnets_requests_in_flight gauge\n");
        b.append("nfnets_requests_in_flight ").append(inFlight.get()).append('\n');
        batchSizes.render(b, "nfnets_batch_size", "Images per forward pass (dynamic batching).");
        requestSeconds.render(b, "nfnets_request_duration_seconds", "Time from request to answer of /v1/classify.");
        inferenceSeconds.render(b, "nfnets_inference_duration_seconds", "Time of one forward pass of a batch.");
        return b.toString();
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** A cumulative-bucket histogram. */
    private static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final DoubleAdder sum = new DoubleAdder();
        private final LongAdder count = new LongAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i].increment();
                    break;
                }
            }
            sum.add(v);
            count.increment();
        }

        void render(StringBuilder b, String name, String help) {
            b.append("# HELP ").append(name).append(' ').append(help).append('\n');
            b.append("# TYPE ").append(name).append(" histogram\n");
            long cumulative = 0;
            for (int i = 0; i < bounds.length; i++) {
                cumulative += counts[i].sum();
                b.append(name).append("_bucket{le=\"").append(format(bounds[i])).append("\"} ").append(cumulative).append('\n');
            }
            long n = count.sum();
            b.append(name).append("_bucket{le=\"+Inf\"} ").append(n).append('\n');
            b.append(name).append("_sum ").append(format(sum.sum())).append('\n');
            b.append(name).append("_count ").append(n).append('\n');
        }

        private static String format(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) + ".0" : String.format(Locale.ROOT, "%s", v);
        }
    }
}
