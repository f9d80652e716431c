package dev.nfnets.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import dev.nfnets.core.weights.ConfigJson;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

/**
 * The HTTP inference server behind {@code nfnets serve}: Javalin on Jetty, one model, dynamic batching.
 *
 * <ul>
 *   <li>{@code POST /v1/classify[?top=k]}: an image (raw bytes or a multipart form field {@code image}) to the
 *       top-k classes with probabilities, the model's name and timings;</li>
 *   <li>{@code GET /v1/models}: the model's config, parameter count, input size and class names;</li>
 *   <li>{@code GET /health}, {@code GET /metrics} (Prometheus text), and the web page at {@code /}.</li>
 * </ul>
 * Refused requests get a 4xx JSON error naming the problem ({@link ApiException}); nothing is written to disk.
 *
 * <pre>{@code
 * ImageClassifier c = Classifiers.load(Path.of("runs/fashion"), null, null, null);
 * try (InferenceServer server = InferenceServer.start(c, ServeOptions.defaults().withPort(0))) {
 *     log.info("listening on {}", server.url());
 * }
 * }</pre>
 */
public final class InferenceServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InferenceServer.class);
    static final String CLASSIFY = "/v1/classify";
    private static final String MODELS = "/v1/models";
    private static final String HEALTH = "/health";
    private static final String METRICS = "/metrics";
    private static final String START = "nfnets.start";

    private final ImageClassifier classifier;
    private final ServeOptions options;
    private final ServeMetrics metrics = new ServeMetrics();
    private final ObjectMapper json = new ObjectMapper();
    private final DynamicBatcher batcher;
    private final Semaphore decoders;
    private final long parameterCount;
    private final Javalin app;

    private InferenceServer(ImageClassifier classifier, ServeOptions options) {
        this.classifier = classifier;
        this.options = options;
        this.decoders = new Semaphore(options.workers());
        this.parameterCount = classifier.model().parameterCount();
        this.batcher = new DynamicBatcher(classifier, options.maxBatch(), options.maxWaitMs(), options.maxQueue(), metrics);
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.startupWatcherEnabled = false;
            config.http.maxRequestSize = options.maxBodyBytes();
            config.staticFiles.add(sf -> {
                sf.hostedPath = "/";
                sf.directory = "/dev/nfnets/serve/web";
                sf.location = Location.CLASSPATH;
            });
            config.routes.post(CLASSIFY, this::classify);
            config.routes.get(MODELS, this::models);
            config.routes.get(HEALTH, ctx -> ctx.json(json.createObjectNode().put("status", "ok")
                    .put("model", classifier.model().config().name())));
            config.routes.get(METRICS, ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.render()));
            config.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.code(), e.getMessage()));
            config.routes.exception(Exception.class, (e, ctx) -> {
                log.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, 500, "internal_error", "the server failed on this request: " + e.getMessage());
            });
            config.routes.error(404, ctx -> {
                if (!ctx.res().isCommitted() && (ctx.result() == null || !ctx.result().startsWith("{"))) {
                    error(ctx, 404, "not_found", "no route " + ctx.method() + " " + ctx.path()
                            + "; routes: POST /v1/classify, GET /v1/models, GET /health, GET /metrics, GET /");
                }
            });
            config.routes.before(ctx -> ctx.attribute(START, System.nanoTime()));
            config.routes.after(ctx -> {
                Long t0 = ctx.attribute(START);
                metrics.request(routeOf(ctx), ctx.statusCode(), t0 == null ? 0 : (System.nanoTime() - t0) / 1e9);
            });
        });
    }

    /** Starts a server for {@code classifier}; with port 0 the system picks a free port ({@link #port()}). */
    public static InferenceServer start(ImageClassifier classifier, ServeOptions options) {
        InferenceServer s = new InferenceServer(classifier, options);
        try {
            s.warmUp();
        } catch (RuntimeException e) {
            s.batcher.close();
            throw e;
        }
        try {
            s.app.start(options.host(), options.port());
        } catch (RuntimeException e) {
            s.batcher.close();
            throw new IllegalStateException("cannot listen on " + options.host() + ":" + options.port() + ": "
                    + e.getMessage(), e);
        }
        for (Connector c : s.app.jettyServer().server().getConnectors()) {
            if (c instanceof ServerConnector sc) {
                sc.setIdleTimeout(options.readTimeoutMs());   // a silent client loses its connection
            }
        }
        log.info("serving model '{}' ({} classes, {} px) on {} (max batch {}, max wait {} ms)",
                classifier.model().config().name(), classifier.classNames().size(), classifier.preprocessing().size(),
                s.url(), options.maxBatch(), options.maxWaitMs());
        return s;
    }

    /**
     * One blank image through the model thread before the port opens, so that the first client does not pay for
     * the JIT, ND4J's initialisation and the model thread's workspace (seconds for a cold JVM).
     */
    private void warmUp() {
        long t0 = System.nanoTime();
        int n = classifier.preprocessing().channels() * classifier.preprocessing().size() * classifier.preprocessing().size();
        try {
            batcher.submit(new float[n]).get(10, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while warming the model up", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the model failed on a blank image: " + e.getCause(), e);
        }
        log.info("model warmed up in {} ms", (System.nanoTime() - t0) / 1_000_000);
    }

    public int port() {
        return app.port();
    }

    public String url() {
        return "http://" + (options.host().contains(":") ? "[" + options.host() + "]" : options.host()) + ":" + port();
    }

    public ServeMetrics metrics() {
        return metrics;
    }

    /** The route a request matched, so metric labels stay few whatever paths clients send. */
    private static String routeOf(Context ctx) {
        String p = ctx.path();
        return switch (p) {
            case CLASSIFY, MODELS, HEALTH, METRICS -> p;
            default -> ctx.statusCode() == 404 ? "unmatched" : "static";
        };
    }

    private void classify(Context ctx) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        int top = parseTop(ctx.queryParam("top"));
        RequestImages.checkContentType(ctx.contentType());
        metrics.inFlight().incrementAndGet();
        try {
            byte[] body = RequestImages.readBody(ctx.req().getInputStream(), ctx.req().getContentLengthLong(),
                    options.maxBodyBytes(), options.readTimeoutMs());
            byte[] bytes = RequestImages.imageBytes(ctx.contentType(), body, options.maxBodyBytes());
            float[] pixels;
            long t1;
            if (!decoders.tryAcquire(options.readTimeoutMs(), TimeUnit.MILLISECONDS)) {
                throw new ApiException(503, "overloaded", "all " + options.workers() + " decoding workers stayed busy for "
                        + options.readTimeoutMs() + " ms; retry later");
            }
            try {
                t1 = System.nanoTime();
                BufferedImage image = RequestImages.decode(bytes, options.maxPixels());
                pixels = classifier.preprocessing().pixels(image);
            } finally {
                decoders.release();
            }
            long t2 = System.nanoTime();
            DynamicBatcher.Result r;
            try {
                r = batcher.submit(pixels).get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof ApiException a) {
                    throw a;
                }
                throw new IllegalStateException("the forward pass failed: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                throw new ApiException(503, "inference_timeout", "the model did not answer within 60 s");
            }
            long t3 = System.nanoTime();
            ObjectNode out = json.createObjectNode();
            out.put("model", classifier.model().config().name());
            ArrayNode preds = out.putArray("predictions");
            for (Prediction p : rank(r.logits(), top)) {
                preds.addObject().put("index", p.classIndex()).put("label", p.label()).put("probability", p.probability());
            }
            ObjectNode timing = out.putObject("timing_ms");
            timing.put("read", ms(t1 - t0));
            timing.put("decode", ms(t2 - t1));
            timing.put("queue", ms(r.queuedNanos()));
            timing.put("inference", ms(r.inferenceNanos()));
            timing.put("total", ms(t3 - t0));
            out.put("batch_size", r.batchSize());
            ctx.json(out);
        } finally {
            metrics.inFlight().decrementAndGet();
        }
    }

    private int parseTop(String raw) {
        int k = classifier.classNames().size();
        if (raw == null || raw.isBlank()) {
            return Math.min(5, k);
        }
        int top;
        try {
            top = Integer.parseInt(raw.strip());
        } catch (NumberFormatException e) {
            throw new ApiException(400, "bad_top", "query parameter 'top' must be an integer in 1.." + k + ", got '"
                    + (raw.length() > 40 ? raw.substring(0, 40) + "..." : raw) + "'");
        }
        if (top < 1 || top > k) {
            throw new ApiException(400, "bad_top", "query parameter 'top' must be in 1.." + k + " (the model's number "
                    + "of classes), got " + top);
        }
        return top;
    }

    /** The same ranking as {@link ImageClassifier#classify}: softmax in double, best first, ties by index. */
    private List<Prediction> rank(float[] logits, int top) {
        double[] p = ImageClassifier.softmax(logits);
        List<String> names = classifier.classNames();
        return IntStream.range(0, p.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i))
                .limit(top).map(i -> new Prediction(i, names.get(i), p[i])).toList();
    }

    private void models(Context ctx) {
        NFNetConfig c = classifier.model().config();
        ObjectNode out = json.createObjectNode();
        ObjectNode m = out.putArray("models").addObject();
        m.put("name", c.name());
        m.put("input_size", classifier.preprocessing().size());
        m.put("channels", classifier.preprocessing().channels());
        m.put("num_classes", c.numClasses());
        m.put("parameters", parameterCount);
        m.put("max_batch", options.maxBatch());
        m.put("max_wait_ms", options.maxWaitMs());
        try {
            m.set("config", json.readTree(ConfigJson.toJson(c)));
        } catch (IOException e) {
            m.put("config", c.toString());
        }
        ArrayNode names = m.putArray("class_names");
        classifier.classNames().forEach(names::add);
        ctx.json(out);
    }

    private void error(Context ctx, int status, String code, String message) {
        metrics.error(code);
        ObjectNode out = json.createObjectNode();
        out.putObject("error").put("status", status).put("code", code).put("message", message);
        ctx.status(status).json(out);
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 1e4) / 100.0;
    }

    /** Stops accepting requests, then stops the model thread. */
    @Override
    public void close() {
        app.stop();
        batcher.close();
        log.info("server on {} stopped", options.host());
    }
}
