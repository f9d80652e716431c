package dev.nfnets.spark;

import dev.nfnets.core.NFNet;
import dev.nfnets.layers.SoftmaxCrossEntropy;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.TrainingConfig;
import dev.nfnets.train.data.BatchLoader;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.DatasetSource;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a worker JVM keeps between steps of a run: the opened dataset (one per {@link DatasetSource}) and the
 * batch loader, and a few models (one per task running at once, since a model holds its activations during
 * a step). Only the parameter values change from step to step; they arrive with each step.
 */
final class WorkerCache {
    private static final Logger log = LoggerFactory.getLogger(WorkerCache.class);
    private static final Map<DatasetSource, Dataset> DATASETS = new ConcurrentHashMap<>();
    private static final Map<String, Run> RUNS = new ConcurrentHashMap<>();

    /** One run's loader and its pool of idle models. */
    static final class Run {
        final TrainingConfig config;
        final BatchLoader loader;
        final SoftmaxCrossEntropy loss;
        private final ConcurrentLinkedDeque<NFNet> idle = new ConcurrentLinkedDeque<>();

        final dev.nfnets.layers.NFNetsOptions options;

        Run(TrainingConfig config, dev.nfnets.layers.NFNetsOptions options, BatchLoader loader) {
            this.config = config;
            this.options = options;
            this.loader = loader;
            this.loss = new SoftmaxCrossEntropy(config.labelSmoothing());
        }

        NFNet borrow() {
            NFNet m = idle.pollFirst();
            return m != null ? m : new NFNet(config.model(), config.seed(), options);
        }

        void giveBack(NFNet m) {
            idle.addFirst(m);
        }
    }

    private WorkerCache() {
    }

    static Dataset dataset(DatasetSource source) {
        return DATASETS.computeIfAbsent(source, s -> {
            Dataset d = s.open();
            log.info("worker opened {}", d.description());
            return d;
        });
    }

    /**
     * The run {@code runId}, set up on first use from the configuration JSON and the training data; with a null
     * {@code source} (examples sent with each step, {@link ImageRows}) the run has no loader of its own.
     */
    static Run run(String runId, String configJson, java.util.Properties options, DatasetSource source) {
        Run r = RUNS.get(runId);
        if (r != null) {
            return r;
        }
        synchronized (RUNS) {
            r = RUNS.get(runId);
            if (r == null) {
                TrainingConfig c = TrainingConfig.fromJson(configJson);
                if (RUNS.size() >= 4) {
                    RUNS.clear();   // runs end without telling the workers: keep the newest few only
                }
                r = new Run(c, dev.nfnets.layers.NFNetsOptions.fromProperties(options),
                        source == null ? null : Trainer.buildLoader(c, dataset(source)));
                RUNS.put(runId, r);
            }
            return r;
        }
    }
}
