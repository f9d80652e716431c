package dev.nfnets.train.bench;

import dev.nfnets.train.cli.BenchCommand;
import picocli.CommandLine;

/**
 * Stand-alone entry point of {@code nfnets bench} (same options), for scripts that run the benchmark
 * without the full command line, e.g. {@code bench/compare.sh}:
 * <pre>
 *   java -cp nfnets-examples/target/classes:$(cat nfnets-examples/target/classpath.txt) \
 *       dev.nfnets.train.bench.BenchMain --model f0 --batch 8 --size 192 --mode train --steps 10 --json
 * </pre>
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(execute(args));
    }

    /** Runs the bench command and returns its exit code. */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + ex.getMessage());
            org.slf4j.LoggerFactory.getLogger(BenchMain.class).debug("stack trace", ex);
            return 1;
        });
        return cl.execute(args);
    }
}
