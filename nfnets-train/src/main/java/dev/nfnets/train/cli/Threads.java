package dev.nfnets.train.cli;

import dev.nfnets.core.ModelSummary;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.layers.memory.NativeThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The {@code --threads} option shared by the commands that train, evaluate or time a model. */
final class Threads {
    private static final Logger LOG = LoggerFactory.getLogger(Threads.class);
    /** The program arguments, set by {@link NFNetsCli#main}: only a stand-alone process may restart itself. */
    static volatile String[] standaloneArgs = null;

    /** Set in a restarted child's environment: the process id of the command that started it. */
    static final String PARENT_PID_ENV = "NFNETS_PARENT_PID";

    private Threads() {
    }

    /**
     * In a child started by {@link #rerun}: exits as soon as the parent process ends, however it ends (a
     * {@code kill -9} of the parent runs no shutdown hook), so no orphaned child keeps training into the run folder.
     * Checkpoints are written atomically, so exiting at any moment loses at most the steps since the last one.
     */
    static void exitWithParent() {
        String v = dev.nfnets.layers.NFNetsOptions.Process.env(PARENT_PID_ENV);
        if (v == null || v.isBlank()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return;
        }
        java.util.Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            LOG.error("the parent process {} has already ended; exiting", pid);
            System.exit(143);
        }
        Thread watcher = new Thread(() -> {
            while (parent.get().isAlive()) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
            LOG.error("the parent process {} ended; exiting so that no orphaned run goes on", pid);
            System.exit(143);
        }, "nfnets-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    /**
     * Applies {@code --threads}. A positive count, or auto (0) in a stand-alone command when {@code OMP_NUM_THREADS}
     * is unset, is applied at run time with {@link NativeThreads#set} (OpenMP and ND4J's master threads); auto picks
     * {@link NativeThreads#auto} for the model's size. Embedded calls ({@link NFNetsCli#execute}) with auto change
     * nothing. ND4J's own worker pool keeps the size the process started
     * with and, when idle, spins on a core (measured 10-20% slower steps than with {@code OMP_NUM_THREADS}); so a
     * stand-alone command that needs fewer threads than it started with runs itself again as a child process
     * with {@code OMP_NUM_THREADS} set, and returns its exit code.
     *
     * @return the child's exit code when the command was re-run in a child process, else empty: go on
     */
    static Optional<Integer> apply(int requested, NFNetConfig model, int size) {
        if (requested < 0) {
            throw new IllegalArgumentException("--threads must be >= 0 (0 = auto), got " + requested);
        }
        String omp = dev.nfnets.layers.NFNetsOptions.Process.env("OMP_NUM_THREADS");
        boolean ompSet = omp != null && !omp.isBlank();
        int available = Runtime.getRuntime().availableProcessors();
        int t;
        String why;
        if (requested > 0) {
            t = requested;
            why = "--threads";
        } else if (ompSet) {
            LOG.info("native threads: {} (OMP_NUM_THREADS={})", NativeThreads.current(), omp);
            return Optional.empty();
        } else if (standaloneArgs == null) {
            // embedded (NFNetsCli.execute from a test or an application): auto leaves the process's threads alone
            return Optional.empty();
        } else {
            long macs = ModelSummary.of(model, size).totalMacs();
            t = NativeThreads.auto(macs, available);
            why = String.format(java.util.Locale.ROOT, "auto: %,d multiply-accumulates per image at %d px; --threads overrides", macs, size);
        }
        if (standaloneArgs != null && !(ompSet && omp.trim().equals(Integer.toString(t))) && t < available) {
            Optional<Integer> rc = rerun(t, why);
            if (rc.isPresent()) {
                return rc;
            }
        }
        NativeThreads.set(t);
        LOG.info("native threads: {} of {} ({})", t, available, why);
        return Optional.empty();
    }

    /** Runs this process's command line again with {@code OMP_NUM_THREADS=threads}; empty if that is not possible. */
    private static Optional<Integer> rerun(int threads, String why) {
        // the JVM's own options, class path and main class, not /proc's command line (cut at 4096 bytes)
        List<String> cmd = new ArrayList<>();
        cmd.add(java.nio.file.Path.of(dev.nfnets.layers.NFNetsOptions.Process.jvm("java.home"), "bin", "java").toString());
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(dev.nfnets.layers.NFNetsOptions.Process.jvm("java.class.path"));
        cmd.add(NFNetsCli.class.getName());
        cmd.addAll(List.of(standaloneArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        pb.environment().put(PARENT_PID_ENV, Long.toString(ProcessHandle.current().pid()));
        LOG.info("native threads: {} ({}); restarting with OMP_NUM_THREADS={}", threads, why, threads);
        try {
            Process child = pb.start();
            Thread stop = new Thread(child::destroy, "nfnets-stop-child");
            Runtime.getRuntime().addShutdownHook(stop);
            int rc = child.waitFor();
            Runtime.getRuntime().removeShutdownHook(stop);
            return Optional.of(rc);
        } catch (IOException e) {
            LOG.warn("could not restart with OMP_NUM_THREADS={} ({}); setting the thread count at run time instead", threads, e.toString());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of(130);
        }
    }
}
