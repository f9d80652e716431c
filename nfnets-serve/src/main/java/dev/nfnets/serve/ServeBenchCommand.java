package dev.nfnets.serve;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.train.cli.Classifiers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code nfnets serve-bench}: starts the server in this process on a loopback port and sends it a bounded load:
 * for each batching setting and each number of clients, every client sends its requests one after another
 * (closed loop) until it has sent {@code --requests} or the cell's time limit has passed. Prints throughput
 * and latency percentiles per cell; nothing runs after it returns.
 */
@Command(name = "serve-bench", mixinStandardHelpOptions = true,
        description = {"Measure the HTTP server: requests/s and p50/p99 latency for N concurrent clients, with and",
                "without dynamic batching. Starts its own server on 127.0.0.1 and stops by itself."})
public final class ServeBenchCommand implements Callable<Integer> {
    @Option(names = "--weights", description = "weights file or run folder; without it --model is built with random weights (timing only)")
    Path weights;
    @Option(names = "--model", description = "f0..f7, mnist or a config JSON")
    String model;
    @Option(names = "--image", description = "the image every request sends (default: a random 320x240 JPEG)")
    Path image;
    @Option(names = "--clients", split = ",", defaultValue = "1,4,16", description = "concurrent clients per cell (default: ${DEFAULT-VALUE})")
    int[] clients;
    @Option(names = "--max-batch", split = ",", defaultValue = "1,8", description = "server --max-batch settings; 1 = no batching (default: ${DEFAULT-VALUE})")
    int[] maxBatches;
    @Option(names = "--max-wait-ms", defaultValue = "5", description = "server --max-wait-ms (default: ${DEFAULT-VALUE})")
    long maxWaitMs;
    @Option(names = "--requests", defaultValue = "200", description = "requests per cell, shared among the clients (default: ${DEFAULT-VALUE})")
    int requests;
    @Option(names = "--max-seconds", defaultValue = "30", description = "time limit per cell; clients stop sending after it (default: ${DEFAULT-VALUE})")
    double maxSeconds;
    @Option(names = "--warmup", defaultValue = "8", description = "requests before each cell, not counted (default: ${DEFAULT-VALUE})")
    int warmup;

    /** One cell's result. */
    record Cell(int maxBatch, int clients, int ok, int failed, double seconds, double p50Ms, double p99Ms, double meanBatch) {
        double throughput() {
            return ok / seconds;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (weights == null && model == null) {
            throw new IllegalArgumentException("pass --weights FILE|RUN_DIR, or --model (e.g. f0) for random weights");
        }
        if (requests < 1 || maxSeconds <= 0 || Arrays.stream(clients).anyMatch(c -> c < 1)) {
            throw new IllegalArgumentException("--requests, --max-seconds and every --clients value must be positive");
        }
        ImageClassifier classifier = weights != null ? Classifiers.load(weights, model, null, null)
                : NFNets.classifier(new NFNet(NFNetConfig.byName(model), 42));
        byte[] body = image != null ? Files.readAllBytes(image) : randomJpeg();
        System.out.printf(Locale.ROOT, "model %s, %d px, image %d bytes, %d cores%n", classifier.model().config().name(),
                classifier.preprocessing().size(), body.length, Runtime.getRuntime().availableProcessors());
        System.out.println("max-batch  clients  requests  failed  seconds   req/s   p50 ms   p99 ms  mean batch");
        for (int b : maxBatches) {
            ServeOptions o = ServeOptions.defaults().withPort(0).withBatching(b, b == 1 ? 0 : maxWaitMs);
            try (InferenceServer server = InferenceServer.start(classifier, o)) {
                for (int c : clients) {
                    Cell cell = run(server, body, b, c);
                    System.out.printf(Locale.ROOT, "%9d  %7d  %8d  %6d  %7.1f  %6.2f  %7.1f  %7.1f  %10.2f%n", cell.maxBatch(),
                            cell.clients(), cell.ok(), cell.failed(), cell.seconds(), cell.throughput(), cell.p50Ms(),
                            cell.p99Ms(), cell.meanBatch());
                }
            }
        }
        return 0;
    }

    Cell run(InferenceServer server, byte[] body, int maxBatch, int nClients) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create(server.url() + InferenceServer.CLASSIFY + "?top=1");
        HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/octet-stream")
                .timeout(Duration.ofSeconds(120)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        for (int i = 0; i < warmup; i++) {
            send(http, request);
        }
        long imagesBefore = server.metrics().imagesClassified();
        long batchesBefore = server.metrics().batches();
        AtomicInteger left = new AtomicInteger(requests);
        AtomicInteger failed = new AtomicInteger();
        List<long[]> perClient = new ArrayList<>();
        long deadline = System.nanoTime() + (long) (maxSeconds * 1e9);
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < nClients; c++) {
            long[] lat = new long[requests + 1];
            perClient.add(lat);
            Thread t = new Thread(() -> {
                int n = 0;
                while (left.getAndDecrement() > 0 && System.nanoTime() < deadline) {
                    long s = System.nanoTime();
                    if (send(http, request)) {
                        lat[++n] = System.nanoTime() - s;
                    } else {
                        failed.incrementAndGet();
                    }
                }
                lat[0] = n;
            }, "serve-bench-client-" + c);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long[] all = perClient.stream().flatMapToLong(l -> Arrays.stream(l, 1, 1 + (int) l[0])).sorted().toArray();
        long batches = server.metrics().batches() - batchesBefore;
        double meanBatch = batches == 0 ? 0 : (server.metrics().imagesClassified() - imagesBefore) / (double) batches;
        return new Cell(maxBatch, nClients, all.length, failed.get(), seconds, percentile(all, 0.50), percentile(all, 0.99),
                meanBatch);
    }

    private static boolean send(HttpClient http, HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static double percentile(long[] sortedNanos, double q) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * sortedNanos.length) - 1;
        return sortedNanos[Math.max(0, Math.min(sortedNanos.length - 1, i))] / 1e6;
    }

    private static byte[] randomJpeg() throws IOException {
        BufferedImage img = new BufferedImage(320, 240, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(7);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, r.nextInt(0x1000000));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }
}
