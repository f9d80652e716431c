package dev.nfnets.core.inference;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Class-name lists for {@link ImageClassifier}.
 *
 * <p>{@link #imagenet1k()} holds the 1000 ILSVRC-2012 classes in the standard synset order (the index
 * order of every ImageNet-1k checkpoint, including the DeepMind NFNet ones), one short common name each;
 * names the standard short list repeats are told apart, so the list is unique even ignoring case:
 * "crane (bird)" 134 / "crane (machine)" 517, "maillot" 638 / "maillot (tank suit)" 639 and
 * "Cardigan corgi" 264 / "cardigan" 474.
 */
public final class ClassNames {
    private static final String IMAGENET_RESOURCE = "imagenet1k-classes.txt";
    private static volatile List<String> imagenet;

    private ClassNames() {
    }

    /** The 1000 ImageNet-1k class names, index order (0 "tench" ... 999 "toilet tissue"); immutable. */
    public static List<String> imagenet1k() {
        List<String> names = imagenet;
        if (names == null) {
            names = List.copyOf(readResource(IMAGENET_RESOURCE));
            if (names.size() != 1000) {
                throw new IllegalStateException(IMAGENET_RESOURCE + " has " + names.size() + " names, expected 1000");
            }
            imagenet = names;
        }
        return names;
    }

    /** {@code "class 0"} ... {@code "class K-1"}. */
    public static List<String> generic(int numClasses) {
        if (numClasses <= 0) {
            throw new IllegalArgumentException("numClasses must be positive, got " + numClasses);
        }
        List<String> out = new ArrayList<>(numClasses);
        for (int i = 0; i < numClasses; i++) {
            out.add("class " + i);
        }
        return List.copyOf(out);
    }

    /** The ImageNet-1k names for 1000 classes, otherwise {@link #generic}. */
    public static List<String> defaultFor(int numClasses) {
        return numClasses == 1000 ? imagenet1k() : generic(numClasses);
    }

    private static List<String> readResource(String name) {
        try (InputStream in = ClassNames.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("class-name resource " + name + " is missing from the classpath");
            }
            List<String> out = new ArrayList<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    out.add(line.strip());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read class-name resource " + name, e);
        }
    }
}
