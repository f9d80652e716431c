package dev.nfnets.train.cli;

import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.layers.memory.NativeThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code --threads} option shared by the commands that train or time a model. */
final class Threads {
    private static final Logger LOG = LoggerFactory.getLogger(Threads.class);

    private Threads() {
    }

    /**
     * Applies {@code --threads}: a positive count as given; 0 (auto) leaves an explicit {@code OMP_NUM_THREADS}
     * alone and otherwise picks {@link NativeThreads#auto} for the model's size.
     */
    static void apply(int requested, NFNetConfig model, int size) {
        if (requested < 0) {
            throw new IllegalArgumentException("--threads must be >= 0 (0 = auto), got " + requested);
        }
        int available = Runtime.getRuntime().availableProcessors();
        if (requested > 0) {
            NativeThreads.set(requested);
            LOG.info("native threads: {} (--threads)", requested);
            return;
        }
        String omp = System.getenv("OMP_NUM_THREADS");
        if (omp != null && !omp.isBlank()) {
            LOG.info("native threads: {} (OMP_NUM_THREADS={})", NativeThreads.current(), omp);
            return;
        }
        long macs = ModelSummary.of(model, size).totalMacs();
        int t = NativeThreads.auto(macs, available);
        NativeThreads.set(t);
        LOG.info("native threads: {} of {} (auto: {} multiply-accumulates per image at {} px; --threads overrides)", t,
                available, macs, size);
    }
}
