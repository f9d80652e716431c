package dev.nfnets.train.cli;

import dev.nfnets.train.RunFolder;

import java.nio.file.Path;

/** Child processes for {@link BrokenInputsCliTest}: one holds a run folder's lock, one watches its parent. */
final class ChildMains {
    private ChildMains() {
    }

    /** Locks the folder {@code args[0]}, prints "locked" and sleeps. */
    static final class LockHolder {
        public static void main(String[] args) throws Exception {
            try (RunFolder.Lock lock = RunFolder.lock(Path.of(args[0]))) {
                System.out.println("locked");
                System.out.flush();
                Thread.sleep(120_000);
            }
        }
    }

    /** Starts the parent watch of a restarted command, prints "watching" and sleeps. */
    static final class ParentWatcher {
        public static void main(String[] args) throws Exception {
            Threads.exitWithParent();
            System.out.println("watching");
            System.out.flush();
            Thread.sleep(120_000);
            System.exit(0);
        }
    }
}
