package dev.nfnets.train.cli;

import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.DatasetSource;
import dev.nfnets.train.data.FashionMnist;
import dev.nfnets.train.data.ImageFolderDataset;
import dev.nfnets.train.data.Split;

import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves {@code --data}: {@code fashion-mnist} or an image folder (with train/ and test/ or val/ inside, or one folder of classes). */
final class DataSets {
    /** The sets, and how a cluster worker opens the training set where it lives. */
    record Pair(Dataset train, Dataset test, DatasetSource trainSource) {
    }

    private DataSets() {
    }

    /** {@link #resolve(String, Path, Path, ImageFolderDataset.Options)} with RGB folder options for {@code imageSize}. */
    static Pair resolve(String data, Path fashionDir, Path testData, int imageSize) {
        return resolve(data, fashionDir, testData, ImageFolderDataset.Options.of(imageSize));
    }

    /**
     * The training and test sets; image folders are read with {@code folderOptions}. The test set is null when an
     * image folder has no test folder. Prints nothing: the commands say what they use.
     */
    static Pair resolve(String data, Path fashionDir, Path testData, ImageFolderDataset.Options folderOptions) {
        if (data.equalsIgnoreCase("fashion-mnist") || data.equalsIgnoreCase("fashion_mnist")) {
            FashionMnist train = FashionMnist.load(Split.TRAIN, fashionDir);
            FashionMnist test = FashionMnist.load(Split.TEST, fashionDir);
            return new Pair(train, test, DatasetSource.fashionMnist(Split.TRAIN, fashionDir));
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
        Dataset train = ImageFolderDataset.open(trainDir, folderOptions);
        Dataset test = testDir == null ? null : align(ImageFolderDataset.open(testDir, folderOptions), train.classNames(),
                "the training folder " + trainDir);
        return new Pair(train, test, DatasetSource.imageFolder(trainDir, folderOptions));
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

    /** What a data set is, for the commands' "data:" lines (Fashion-MNIST: where it comes from). */
    static String describe(Dataset d) {
        if (d instanceof FashionMnist f) {
            return f.source().contains("Fashion-MNIST") ? f.source() : "Fashion-MNIST " + f.source();
        }
        return d.description();
    }

    /**
     * Image-folder options for a model: its input channels unless {@code channels} is given, crop {@code size}, and
     * the shorter side resized to {@code resize} when given, else to {@code size + 32} (the reference's margin) for
     * RGB and to {@code size} with both sides squashed (the whole image, as {@code predict} prepares one-channel
     * models' images) for grey.
     */
    static ImageFolderDataset.Options folderOptions(int modelChannels, Integer channels, int size, Integer resize) {
        int c = channels != null ? channels : modelChannels == 1 ? 1 : 3;
        if (c != 1 && c != 3) {
            throw new IllegalArgumentException("--channels must be 1 (grey) or 3 (RGB), got " + c);
        }
        ImageFolderDataset.Options o = c == 1 ? ImageFolderDataset.Options.grey(size) : ImageFolderDataset.Options.of(size);
        if (resize != null) {
            if (resize < size) {
                throw new IllegalArgumentException("--resize (" + resize + ") must be at least the crop size (" + size + ")");
            }
            o = o.withResizeShorter(resize).withSquash(false);
        }
        return o;
    }
}
