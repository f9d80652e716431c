package dev.nfnets.train.cli;

/**
 * A subcommand of {@code nfnets} contributed by an optional module ({@code nfnets-serve}, {@code nfnets-video},
 * {@code nfnets-spark}). The CLI lives in {@code nfnets-train}, below those modules, so it cannot name their
 * commands; each module lists its implementation in
 * {@code META-INF/services/dev.nfnets.train.cli.CliExtension} and {@link NFNetsCli} adds every one it finds on the
 * class path. A user who depends on the library alone never loads Spark, FFmpeg or an HTTP server this way.
 *
 * <pre>{@code
 * public final class ServeExtension implements CliExtension {
 *     public Object command() { return new ServeCommand(); }   // a picocli @Command("serve") object
 * }
 * }</pre>
 */
public interface CliExtension {
    /** A fresh picocli command object (a class annotated with {@code @Command}, whose name is the subcommand's). */
    Object command();
}
