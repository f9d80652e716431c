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

    static Pair resolve(String data, Path fashionDir, Path testData, int imageSize) {
        if (data.equalsIgnoreCase("fashion-mnist") || data.equalsIgnoreCase("fashion_mnist")) {
            FashionMnist train = FashionMnist.load(Split.TRAIN, fashionDir);
            FashionMnist test = FashionMnist.load(Split.TEST, fashionDir);
            System.out.println("data: " + train.source());
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
        Dataset train = ImageFolderDataset.open(trainDir, imageSize);
        Dataset test = testDir == null ? null : ImageFolderDataset.open(testDir, imageSize);
        System.out.println("data: " + train.description() + (test == null ? " (no test folder: no evaluation)" : "; test: " + test.description()));
        return new Pair(train, test, DatasetSource.imageFolder(trainDir, imageSize));
    }
}
