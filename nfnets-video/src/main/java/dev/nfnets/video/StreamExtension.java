package dev.nfnets.video;

import dev.nfnets.train.cli.CliExtension;

/** Adds {@code nfnets stream} to the CLI (listed in META-INF/services). */
public final class StreamExtension implements CliExtension {
    @Override
    public Object command() {
        return new StreamCommand();
    }
}
