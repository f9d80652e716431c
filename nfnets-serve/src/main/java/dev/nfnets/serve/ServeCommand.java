package dev.nfnets.serve;

import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.train.cli.Classifiers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code nfnets serve}: classify images over HTTP until stopped (Ctrl-C). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model over HTTP: POST /v1/classify, GET /v1/models, /health, /metrics and a web page at /",
                "(upload an image or classify the browser's camera). Binds to 127.0.0.1 unless --host says otherwise;",
                "see docs/serving.md before exposing it."})
public final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--weights", required = true, description = ".npz (DeepMind), .safetensors (timm or native) or a run folder of `nfnets train`")
    Path weights;
    @Option(names = "--model", description = "f0..f7, mnist or a config JSON (not needed for native weight files and run folders)")
    String model;
    @Option(names = "--size", description = "input size (default: the model's test size)")
    Integer size;
    @Option(names = "--classes-file", description = "class names, one per line (default: classes.txt beside the weights, else ImageNet names for 1000 classes)")
    Path classesFile;
    @Option(names = "--host", defaultValue = ServeOptions.DEFAULT_HOST, description = "interface to bind (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 exposes it)")
    String host;
    @Option(names = "--port", defaultValue = "8080", description = "TCP port, 0 for any free one (default: ${DEFAULT-VALUE})")
    int port;
    @Option(names = "--max-batch", defaultValue = "8", description = "most images per forward pass; 1 turns dynamic batching off (default: ${DEFAULT-VALUE})")
    int maxBatch;
    @Option(names = "--max-wait-ms", defaultValue = "5", description = "how long a request waits for others to share its batch (default: ${DEFAULT-VALUE})")
    long maxWaitMs;
    @Option(names = "--workers", description = "requests decoded and preprocessed at once (default: the number of cores, at least 2)")
    Integer workers;
    @Option(names = "--max-body-mb", defaultValue = "20", description = "largest request body in MB (default: ${DEFAULT-VALUE})")
    double maxBodyMb;
    @Option(names = "--max-megapixels", defaultValue = "40", description = "largest image, width x height from its header, checked before decoding (default: ${DEFAULT-VALUE})")
    double maxMegapixels;
    @Option(names = "--read-timeout-ms", defaultValue = "10000", description = "longest a client may take to send a request body (default: ${DEFAULT-VALUE})")
    long readTimeoutMs;
    @Option(names = "--max-queue", defaultValue = "256", description = "images waiting for the model before requests get 503 (default: ${DEFAULT-VALUE})")
    int maxQueue;

    ServeOptions options() {
        if (!(maxBodyMb > 0) || !(maxMegapixels > 0)) {
            throw new IllegalArgumentException("--max-body-mb and --max-megapixels must be positive, got " + maxBodyMb
                    + " and " + maxMegapixels);
        }
        int w = workers != null ? workers : ServeOptions.defaults().workers();
        return new ServeOptions(host, port, maxBatch, maxWaitMs, w, (long) (maxBodyMb * (1 << 20)),
                (long) (maxMegapixels * 1e6), readTimeoutMs, maxQueue);
    }

    @Override
    public Integer call() throws Exception {
        ServeOptions o = options();   // checked before the model is loaded
        ImageClassifier classifier = Classifiers.load(weights, model, size, classesFile);
        InferenceServer server = InferenceServer.start(classifier, o);
        if (!ServeOptions.DEFAULT_HOST.equals(o.host()) && !"localhost".equals(o.host())) {
            log.warn("listening on {} without authentication or TLS; put a reverse proxy in front (docs/serving.md)", o.host());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "nfnets-serve-shutdown"));
        log.info("open {} in a browser; Ctrl-C stops the server", server.url());
        stopped.await();
        return 0;
    }
}
