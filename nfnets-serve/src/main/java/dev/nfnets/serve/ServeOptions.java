package dev.nfnets.serve;

/**
 * The server's settings; {@link #defaults()} are those of {@code nfnets serve} without options.
 *
 * @param host          interface to bind; 127.0.0.1 (loopback only) unless exposing it on purpose
 * @param port          TCP port; 0 picks a free one (tests)
 * @param maxBatch      the most images one forward pass takes; 1 turns dynamic batching off
 * @param maxWaitMs     how long the first request of a batch waits for others to join it
 * @param workers       requests read, decoded and preprocessed at the same time (the model itself runs one
 *                      batch at a time: forward passes on one model are serialised)
 * @param maxBodyBytes  the largest request body accepted
 * @param maxPixels     the largest image (width x height, from its header) accepted, checked before decoding
 * @param readTimeoutMs the longest a client may take to send its body, and the connection's idle timeout
 * @param maxQueue      images waiting for the model before new requests are refused with 503
 */
public record ServeOptions(String host, int port, int maxBatch, long maxWaitMs, int workers, long maxBodyBytes,
                           long maxPixels, long readTimeoutMs, int maxQueue) {
    public static final String DEFAULT_HOST = "127.0.0.1";

    public ServeOptions {
        require(host != null && !host.isBlank(), "host must not be empty");
        require(port >= 0 && port <= 65535, "port must be in 0..65535, got " + port);
        require(maxBatch >= 1 && maxBatch <= 1024, "max-batch must be in 1..1024, got " + maxBatch);
        require(maxWaitMs >= 0 && maxWaitMs <= 10_000, "max-wait-ms must be in 0..10000, got " + maxWaitMs);
        require(workers >= 1 && workers <= 1024, "workers must be in 1..1024, got " + workers);
        require(maxBodyBytes >= 1024, "max body size must be at least 1 KiB, got " + maxBodyBytes + " bytes");
        require(maxPixels >= 1, "max pixels must be positive, got " + maxPixels);
        require(readTimeoutMs >= 100, "read timeout must be at least 100 ms, got " + readTimeoutMs);
        require(maxQueue >= 1, "max queue must be positive, got " + maxQueue);
    }

    /** Loopback, port 8080, batches of up to 8 waiting at most 5 ms, 20 MB bodies, 40 megapixel images. */
    public static ServeOptions defaults() {
        int cores = Runtime.getRuntime().availableProcessors();
        return new ServeOptions(DEFAULT_HOST, 8080, 8, 5, Math.max(2, cores), 20L << 20, 40_000_000L, 10_000, 256);
    }

    public ServeOptions withPort(int p) {
        return new ServeOptions(host, p, maxBatch, maxWaitMs, workers, maxBodyBytes, maxPixels, readTimeoutMs, maxQueue);
    }

    public ServeOptions withBatching(int batch, long waitMs) {
        return new ServeOptions(host, port, batch, waitMs, workers, maxBodyBytes, maxPixels, readTimeoutMs, maxQueue);
    }

    public ServeOptions withLimits(long bodyBytes, long pixels, long timeoutMs) {
        return new ServeOptions(host, port, maxBatch, maxWaitMs, workers, bodyBytes, pixels, timeoutMs, maxQueue);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
