package dev.nfnets.train.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code nfnets} command line: {@code train}, {@code eval}, {@code predict}, {@code summary}, {@code bench},
 * {@code check-reference}, {@code models}, and the commands of the optional modules on the class path ({@link CliExtension}). Run {@code ./nfnets --help} or {@code ./nfnets <command> --help}.
 */
@Command(name = "nfnets", mixinStandardHelpOptions = true, version = "nfnets-java 0.1.0-SNAPSHOT",
        description = "NFNets (normalizer-free networks with adaptive gradient clipping) on ND4J.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, SummaryCommand.class, BenchCommand.class, CheckReferenceCommand.class,
                ModelsCommand.class, CommandLine.HelpCommand.class})
public final class NFNetsCli implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        // a process of its own may restart itself with OMP_NUM_THREADS (Threads); not when another main class, such as
        // Spark's SparkSubmit, loaded this one from a jar its own class path does not name
        String command = System.getProperty("sun.java.command", "");
        String classPath = System.getProperty("java.class.path", "");
        if (command.startsWith(NFNetsCli.class.getName()) || (!classPath.isEmpty() && command.startsWith(classPath))) {   // or java -jar
            Threads.standaloneArgs = args.clone();
        }
        Threads.exitWithParent();
        System.exit(execute(args));
    }

    /** Runs a command and returns its exit code (for tests and embedding). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new NFNetsCli());
        for (CliExtension extension : java.util.ServiceLoader.load(CliExtension.class)) {
            cl.addSubcommand(extension.command());
        }
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + ex.getMessage());
            org.slf4j.LoggerFactory.getLogger(NFNetsCli.class).debug("stack trace", ex);
            return 1;
        });
        return cl.execute(args);
    }
}
