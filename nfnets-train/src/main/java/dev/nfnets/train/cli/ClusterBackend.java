package dev.nfnets.train.cli;

import dev.nfnets.train.GradientSource;
import dev.nfnets.train.Trainer;
import dev.nfnets.train.data.DatasetSource;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Runs {@code nfnets train --spark MASTER} and {@code nfnets predict --spark MASTER} on a cluster. The CLI lives in
 * {@code nfnets-train}, below {@code nfnets-spark}, so it finds the implementation through {@link ServiceLoader}
 * ({@code META-INF/services/dev.nfnets.train.cli.ClusterBackend}). A hook rather than a {@link CliExtension}: the
 * cluster runs are the existing {@code train} and {@code predict} commands with every one of their options, only
 * the gradients (or the classification) are computed elsewhere.
 */
public interface ClusterBackend {
    /**
     * Connects to {@code master} and returns the source of {@code trainer}'s gradients; closing it ends the
     * cluster session. Fails with a clear message, before any step, when the master cannot be reached or the
     * workers cannot run a step.
     *
     * @param train how the workers open the training set (the trainer's own)
     */
    GradientSource training(String master, Trainer trainer, DatasetSource train);

    /**
     * Classifies every image under {@code dir} (recursively) on {@code master} and writes one CSV line per image
     * ({@code path,label1,probability1,...}) to {@code output}, atomically; returns the number of images.
     */
    long predict(String master, Path weights, String model, List<String> classNames, Path dir, int top, Path output)
            throws java.io.IOException;

    /** The backend on the class path, or an error naming the option and the missing module. */
    static ClusterBackend find(String option) {
        for (ClusterBackend b : ServiceLoader.load(ClusterBackend.class)) {
            return b;
        }
        throw new IllegalArgumentException(option + " needs the nfnets-spark module (and Spark) on the class path");
    }
}
