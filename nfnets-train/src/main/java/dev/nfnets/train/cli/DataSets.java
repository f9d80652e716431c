package dev.nfnets.train.cli;

import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.FashionMnist;
import dev.nfnets.train.data.ImageFolderDataset;
import dev.nfnets.train.data.Split;

import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves {@code --data}: {@code fashion-mnist} or an image folder (with train/ and test/ or val/ inside, or one folder of classes). */
final class DataSets {
    record Pair(Dataset train, Dataset test) {
    }

    private DataSets() {
    }

    static Pair resolve(String data, Path fashionDir, Path testData, int imageSize) {
        if (data.equalsIgnoreCase("fashion-mnist") || data.equalsIgnoreCase("fashion_mnist")) {
            FashionMnist train = FashionMnist.load(Split.TRAIN, fashionDir);
            FashionMnist test = FashionMnist.load(Split.TEST, fashionDir);
            System.out.println("data: " + train.source());
            return new Pair(train, test);
        }
        Path dir = Path.of(data);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--data must be 'fashion-mnist' or an image folder; not a folder: " + dir);
        }
        Path trainDir = Files.isDirectory(dir.resolve("train")) ? dir.resolve("train") : dir;
        Path testDir = testData;
        if (testDir == null) {
            for (String name : new String[] {"test", "val", "validation"}) {
                if (trainDir != dir && Files.isDirectory(dir.resolve(name))) {
                    testDir = dir.resolve(name);
                    break;
                }
            }
        }
        Dataset train = ImageFolderDataset.open(trainDir, imageSize);
        Dataset test = testDir == null ? null : align(ImageFolderDataset.open(testDir, imageSize), train.classNames(),
                "the training folder " + trainDir);
        System.out.println("data: " + train.description() + (test == null ? " (no test folder: no evaluation)" : "; test: " + test.description()));
        return new Pair(train, test);
    }

    /**
     * {@code data} labelled by {@code expected} class names (from the training data or a run's classes.txt): the
     * same names in another order, or a subset, are mapped by name (image folders); anything else is an error naming
     * both lists.
     */
    static Dataset align(Dataset data, java.util.List<String> expected, String expectedSource) {
        if (data.classNames().equals(expected)) {
            return data;
        }
        if (data instanceof ImageFolderDataset f && expected.containsAll(f.classNames())) {
            return f.relabelledAs(expected);
        }
        java.util.List<String> missing = new java.util.ArrayList<>(data.classNames());
        missing.removeAll(expected);
        throw new IllegalArgumentException("the classes of " + data.description() + " " + data.classNames()
                + " differ from those of " + expectedSource + " " + expected
                + (missing.isEmpty() ? "" : "; not among the expected: " + missing));
    }

    /** The class names listed in a classes.txt file (one per line, blank lines ignored), naming the file on errors. */
    static java.util.List<String> readClassNames(Path file) throws java.io.IOException {
        dev.nfnets.core.io.RegularFiles.require(file, "class names file");
        java.util.List<String> names = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        if (names.isEmpty()) {
            throw new IllegalArgumentException(file + ": lists no class names");
        }
        return names;
    }
}
