package dev.nfnets.train.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliExtensionTest {
    /** Registered in this module's test resources, as an optional module registers its command. */
    public static final class Echo implements CliExtension {
        @Override
        public Object command() {
            return new EchoCommand();
        }
    }

    @Command(name = "test-echo", description = "A subcommand contributed through CliExtension (tests only).")
    static final class EchoCommand implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.println("echo from an extension");
            return 7;
        }
    }

    @Test
    void subcommandsFoundOnTheClassPathAreListedAndRun() {
        String[] help = CliTest.run("--help");
        assertEquals("0", help[0]);
        assertTrue(help[1].contains("test-echo"), help[1]);
        String[] echo = CliTest.run("test-echo");
        assertEquals("7", echo[0]);
        assertTrue(echo[1].contains("echo from an extension"), echo[1]);
    }
}
