package dev.nfnets.train.cli;

import dev.nfnets.core.io.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Where the published NFNet weights live, and the local folder that keeps downloaded copies.
 *
 * <p>The cache folder is {@code $NFNETS_CACHE} if set, else the {@code nfnets.cache} system property, else
 * {@code $XDG_CACHE_HOME/nfnets}, else {@code ~/.cache/nfnets}. Nothing is downloaded unless asked for
 * ({@code nfnets models --download NAME}); the download is written atomically (a temporary file renamed into
 * place), so an interrupted one leaves no partial file under the final name.
 */
final class WeightsCache {
    private static final Logger log = LoggerFactory.getLogger(WeightsCache.class);
    /** timm's copies of DeepMind's weights on the Hugging Face hub (safetensors, timm names; F0..F6). */
    static final String TIMM_URL = "https://huggingface.co/timm/dm_nfnet_f%d.dm_in1k/resolve/main/model.safetensors";
    /** DeepMind's release (Haiku pickles despite the name, read directly by Weights.load; F0..F6). */
    static final String DEEPMIND_URL = "https://storage.googleapis.com/dm-nfnets/F%d_haiku.npz";

    private WeightsCache() {
    }

    static Path folder() {
        return folder(dev.nfnets.layers.NFNetsOptions.defaults());
    }

    /** The cache folder {@code options} name ({@code nfnets.cache}), else the platform's default. */
    static Path folder(dev.nfnets.layers.NFNetsOptions options) {
        String configured = options.cache();   // NFNETS_CACHE or -Dnfnets.cache
        if (!configured.isEmpty()) {
            return Path.of(configured);
        }
        String xdg = dev.nfnets.layers.NFNetsOptions.Process.env("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "nfnets");
        }
        return Path.of(dev.nfnets.layers.NFNetsOptions.Process.jvm("user.home"), ".cache", "nfnets");
    }

    /** The variant index 0..6 of a name with published weights (f3, dm_nfnet_f3, F3), if it has them. */
    static Optional<Integer> publishedVariant(String name) {
        String n = Models.shortName(name).toLowerCase(Locale.ROOT);
        return n.matches("f[0-6]") ? Optional.of(n.charAt(1) - '0') : Optional.empty();
    }

    /** The file a download of variant {@code k} is kept in: {@code dm_nfnet_f<k>.safetensors} in the cache folder. */
    static Path cachedFile(Path folder, int k) {
        return folder.resolve("dm_nfnet_f" + k + ".safetensors");
    }

    /**
     * A {@code --init-from} or {@code --weights} argument: the path itself when it exists, else, for a published
     * model's name ({@code dm_nfnet_f0}, {@code f0}), its copy in the cache folder.
     *
     * @throws IllegalArgumentException for a published name that was not downloaded yet (the message says how)
     */
    static Path resolve(Path weights) {
        return resolve(weights, folder());
    }

    /** {@link #resolve(Path)} with the cache in {@code cacheFolder}. */
    static Path resolve(Path weights, Path cacheFolder) {
        if (Files.exists(weights) || weights.getNameCount() != 1) {
            return weights;
        }
        Optional<Integer> k = publishedVariant(weights.toString());
        if (k.isEmpty()) {
            return weights;
        }
        Path cached = cachedFile(cacheFolder, k.get());
        if (!Files.isRegularFile(cached)) {
            throw new IllegalArgumentException(weights + " is not a file, and the published F" + k.get() + " weights are not in the cache "
                    + cacheFolder + "; download them with: ./nfnets models --download dm_nfnet_f" + k.get());
        }
        return cached;
    }

    /** Copies {@code url} to {@code target} atomically, logging progress every 10%. */
    static void download(URI url, Path target) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        URLConnection c = url.toURL().openConnection();
        c.setConnectTimeout(30_000);
        c.setReadTimeout(60_000);
        long size = c.getContentLengthLong();
        log.info("downloading {} ({}) -> {}", url, size > 0 ? String.format(Locale.ROOT, "%.1f MB", size / 1e6) : "size unknown", target);
        try (InputStream in = c.getInputStream()) {
            AtomicFiles.write(target, out -> {
                byte[] buf = new byte[1 << 16];
                long done = 0;
                long nextReport = size > 0 ? size / 10 : Long.MAX_VALUE;
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    out.write(buf, 0, n);
                    done += n;
                    if (done >= nextReport) {
                        log.info("downloaded {}%", 100 * done / size);
                        nextReport += size / 10;
                    }
                }
                if (size > 0 && done != size) {
                    throw new IOException(url + ": got " + done + " of " + size + " bytes");
                }
            });
        }
    }
}
