package dev.nfnets.serve;

import dev.nfnets.train.cli.CliExtension;

/** Adds {@code nfnets serve} to the command line (listed in META-INF/services). */
public final class ServeExtension implements CliExtension {
    @Override
    public Object command() {
        return new ServeCommand();
    }
}
