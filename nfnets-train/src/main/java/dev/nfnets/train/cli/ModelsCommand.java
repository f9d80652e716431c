package dev.nfnets.train.cli;

import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNetConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "models", mixinStandardHelpOptions = true,
        header = "List the built-in models and their published weights; download them.",
        description = {"List the built-in models (names, parameters, input sizes, multiply-accumulates) and where their",
                "published weights live; --download fetches timm's copy of DeepMind's weights into the cache folder",
                "($NFNETS_CACHE, else ~/.cache/nfnets), where --init-from dm_nfnet_f0 and --weights dm_nfnet_f0 find it."})
final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--download", paramLabel = "NAME",
            description = "download the published weights of this model (dm_nfnet_f0 .. dm_nfnet_f6, or f0 .. f6) into the cache")
    String download;

    @Override
    public Integer call() throws Exception {
        Path cache = WeightsCache.folder();
        if (download != null) {
            int k = WeightsCache.publishedVariant(download).orElseThrow(() -> new IllegalArgumentException("no published weights for '"
                    + download + "': F0..F6 have them (dm_nfnet_f0 .. dm_nfnet_f6)"));
            Path target = WeightsCache.cachedFile(cache, k);
            if (Files.isRegularFile(target)) {
                System.out.println("already downloaded: " + target);
                return 0;
            }
            WeightsCache.download(URI.create(String.format(Locale.ROOT, WeightsCache.TIMM_URL, k)), target);
            System.out.println("downloaded: " + target + " (use: --model f" + k + " --init-from dm_nfnet_f" + k
                    + ", or --weights dm_nfnet_f" + k + ")");
            return 0;
        }
        System.out.print(table(cache));
        return 0;
    }

    static String table(Path cache) {
        List<NFNetConfig> models = new ArrayList<>();
        models.add(NFNetConfig.mnist());
        for (int k = 0; k <= 7; k++) {
            models.add(NFNetConfig.variant(k));
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-12s %-18s %13s %11s %12s  %s%n", "model", "--model", "parameters", "train/test",
                "GMACs@test", "published weights"));
        for (NFNetConfig c : models) {
            boolean mnist = c.inChannels() == 1;
            String k = mnist ? "" : c.name().substring(1);
            String names = mnist ? "mnist" : k.equals("7") ? "f7" : "f" + k + ", dm_nfnet_f" + k;   // timm has no F7
            ModelSummary s = ModelSummary.of(c, c.testSize());
            String published = mnist ? "none (./nfnets train makes one)"
                    : WeightsCache.publishedVariant("f" + k).isPresent()
                    ? (Files.isRegularFile(WeightsCache.cachedFile(cache, Integer.parseInt(k))) ? "timm, DeepMind (downloaded)" : "timm, DeepMind")
                    : "none";
            sb.append(String.format(Locale.ROOT, "%-12s %-18s %,13d %11s %12.2f  %s%n", c.name(), names, s.totalParams(),
                    c.trainSize() + "/" + c.testSize(), s.totalMacs() / 1e9, published));
        }
        sb.append(String.format(Locale.ROOT, "%nPublished weights (ImageNet-1k, 1000 classes; F0..F6, none for F7):%n"));
        sb.append("  timm (safetensors, loads directly): ").append(String.format(Locale.ROOT, WeightsCache.TIMM_URL, 0))
                .append("  (f1..f6 alike)\n");
        sb.append("  DeepMind (dill pickles named .npz; convert once, see docs/user-guide.md): ")
                .append(String.format(Locale.ROOT, WeightsCache.DEEPMIND_URL, 0)).append("  (F1..F6 alike)\n");
        sb.append("Cache folder: ").append(cache).append(" ($NFNETS_CACHE overrides it); ./nfnets models --download dm_nfnet_f0 "
                + "fetches timm's F0 file there.\n");
        return sb.toString();
    }
}
