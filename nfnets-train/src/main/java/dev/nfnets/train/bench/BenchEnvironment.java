package dev.nfnets.train.bench;

import dev.nfnets.layers.NFNetsOptions;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/** Threads and native backend as seen by this process. */
public record BenchEnvironment(int availableProcessors, int nd4jMaxThreads, int nd4jMaxMasterThreads, String ompNumThreads,
                               String ompWaitPolicy, boolean oneDnn, String javaVersion, long maxHeapBytes) {
    private static final Logger LOG = LoggerFactory.getLogger(BenchEnvironment.class);

    public static BenchEnvironment current() {
        org.nd4j.linalg.factory.Environment env = Nd4j.getEnvironment();
        return new BenchEnvironment(Runtime.getRuntime().availableProcessors(), env.maxThreads(), env.maxMasterThreads(),
                Objects.requireNonNullElse(NFNetsOptions.Process.env("OMP_NUM_THREADS"), ""),
                Objects.requireNonNullElse(NFNetsOptions.Process.env("OMP_WAIT_POLICY"), ""), hasOneDnn(),
                NFNetsOptions.Process.jvm("java.version"), Runtime.getRuntime().maxMemory());
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("available_processors", availableProcessors);
        m.put("nd4j_max_threads", nd4jMaxThreads);
        m.put("nd4j_max_master_threads", nd4jMaxMasterThreads);
        m.put("omp_num_threads_env", ompNumThreads);
        m.put("omp_wait_policy_env", ompWaitPolicy);
        m.put("onednn", oneDnn);
        m.put("java_version", javaVersion);
        m.put("max_heap_bytes", maxHeapBytes);
        return m;
    }

    /** Whether the loaded ND4J native backend was built with oneDNN. */
    static boolean hasOneDnn() {
        try {
            Nd4j.getBackend(); // must come before NativeOpsHolder
            return org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo().contains("HAVE_ONEDNN");
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("cannot read the ND4J build info", e);
            return false;
        }
    }

    /** One line: threads, OpenMP environment, oneDNN, Java and heap. */
    public String render() {
        return String.format(Locale.ROOT, "threads: %d available processors, ND4J max threads %d (master %d), OMP_NUM_THREADS=%s,"
                        + " OMP_WAIT_POLICY=%s; oneDNN %s; Java %s, max heap %s%n", availableProcessors, nd4jMaxThreads,
                nd4jMaxMasterThreads, ompNumThreads.isEmpty() ? "(unset)" : ompNumThreads,
                ompWaitPolicy.isEmpty() ? "(unset)" : ompWaitPolicy, oneDnn ? "yes" : "NO", javaVersion, Benchmark.mib(maxHeapBytes));
    }
}
