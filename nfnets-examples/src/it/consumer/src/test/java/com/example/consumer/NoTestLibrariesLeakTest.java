package com.example.consumer;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nfnets-core and nfnets-train bring no test library into a user's compile scope. */
class NoTestLibrariesLeakTest {
    @Test
    void compileClassPathHasNoTestLibraries() throws Exception {
        Path file = Path.of("target", "compile-classpath.txt");
        assertTrue(Files.isRegularFile(file), file + " is written by the dependency plugin before the tests");
        List<String> jars = Arrays.asList(Files.readString(file).trim().split(File.pathSeparator));
        assertTrue(jars.stream().anyMatch(j -> j.contains("nfnets-train")), "nfnets-train is on the compile class path: " + jars);
        for (String banned : List.of("/org/junit/", "/org/opentest4j/", "/org/apiguardian/", "/org/mockito/")) {
            assertFalse(jars.stream().anyMatch(j -> j.replace('\\', '/').contains(banned)),
                    banned + " reaches the compile scope: " + jars);
        }
    }
}
