package dev.nfnets.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fashion-MNIST (Zalando): 28x28 grey images of 10 clothing classes, 60,000 train and 10,000 test.
 *
 * <p>{@link #load(Split, Path)} looks for the data in this order:
 * <ol>
 *   <li>the folder given by the caller (it must hold the split's two IDX files, gzipped or not);</li>
 *   <li>{@link #SYSTEM_DIR}, where Debian's {@code dataset-fashion-mnist} package installs the full set;</li>
 *   <li>an embedded subset on the classpath (resource folder {@link #RESOURCE_DIR}): the first 600 training
 *       images of each class in original order (6,000 images, which come from the first 6,411) and the
 *       first 1,000 test images.</li>
 * </ol>
 * {@link #source()} says which one was used, and it is logged at INFO.
 *
 * <p>Pixels are returned as {@code (x/255 - 0.2860) / 0.3530} ({@link Normalization#FASHION_MNIST}), one
 * channel, 28x28. All images are held in memory as bytes (47 MB for the full training split).
 */
public final class FashionMnist implements Dataset {
    private static final Logger LOG = LoggerFactory.getLogger(FashionMnist.class);

    /** Where Debian's {@code dataset-fashion-mnist} package puts the files. */
    public static final Path SYSTEM_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** Classpath folder of the embedded subset (same file names as the full set). */
    public static final String RESOURCE_DIR = "/dev/nfnets/train/data/fashion-mnist-subset/";

    /** Class names, index = label. */
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    public static final int NUM_CLASSES = 10;
    public static final int ROWS = 28;
    public static final int COLS = 28;

    /** Where a loaded set came from. */
    public enum Origin {
        /** A folder passed by the caller. */
        EXPLICIT_DIR,
        /** The system-wide copy in {@link #SYSTEM_DIR}. */
        SYSTEM_DIR,
        /** The subset shipped in this jar. */
        EMBEDDED
    }

    private final Split split;
    private final Origin origin;
    private final String source;
    private final byte[] pixels;
    private final byte[] labels;
    private final int count;
    private final float[] lut;

    private FashionMnist(Split split, Origin origin, String source, Idx.Labelled data) {
        int[] dims = data.images().dims();
        if (dims[1] != ROWS || dims[2] != COLS) {
            throw new IllegalArgumentException(source + ": expected 28x28 images, got " + dims[1] + "x" + dims[2]);
        }
        this.split = split;
        this.origin = origin;
        this.source = source;
        this.pixels = data.images().data();
        this.labels = data.labels();
        this.count = data.count();
        this.lut = new float[256];
        for (int v = 0; v < 256; v++) {
            lut[v] = Normalization.FASHION_MNIST.normalize(0, v);
        }
    }

    /**
     * Loads a split, from {@code dirOrNull} when given, else from {@link #SYSTEM_DIR} when the split's files
     * are there, else from the embedded subset.
     *
     * @throws IllegalArgumentException when {@code dirOrNull} is given but lacks the split's files
     * @throws UncheckedIOException     when a file cannot be read or is malformed (the message names it)
     */
    public static FashionMnist load(Split split, Path dirOrNull) {
        Objects.requireNonNull(split, "split");
        FashionMnist ds;
        if (dirOrNull != null) {
            ds = loadFrom(split, dirOrNull, Origin.EXPLICIT_DIR);
        } else if (systemCopyAvailable(split)) {
            ds = loadFrom(split, SYSTEM_DIR, Origin.SYSTEM_DIR);
        } else {
            ds = loadEmbedded(split);
        }
        return ds;
    }

    /** Loads a split from a folder holding the IDX files (gzipped or not). */
    public static FashionMnist loadFrom(Split split, Path dir) {
        return loadFrom(split, dir, Origin.EXPLICIT_DIR);
    }

    /** Loads a split of the embedded subset, ignoring any copy on disk. */
    public static FashionMnist loadEmbedded(Split split) {
        Objects.requireNonNull(split, "split");
        try {
            Idx.Labelled data = readResourcePair(split);
            int other = readResource(labelsFile(split == Split.TRAIN ? Split.TEST : Split.TRAIN)).count();
            int train = split == Split.TRAIN ? data.count() : other;
            int test = split == Split.TEST ? data.count() : other;
            String source = "embedded subset (" + train + " train, " + test + " test)";
            FashionMnist ds = new FashionMnist(split, Origin.EMBEDDED, source, data);
            LOG.info("Fashion-MNIST {}: {} images from {}", split.displayName(), ds.count, source);
            return ds;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the embedded Fashion-MNIST subset: " + e.getMessage(), e);
        }
    }

    /** True when the system-wide copy holds both files of {@code split}. */
    public static boolean systemCopyAvailable(Split split) {
        return findFile(SYSTEM_DIR, imagesFile(split)) != null && findFile(SYSTEM_DIR, labelsFile(split)) != null;
    }

    /** File name of the split's images in the original distribution ({@code train-images-idx3-ubyte.gz}, ...). */
    public static String imagesFile(Split split) {
        return (split == Split.TRAIN ? "train" : "t10k") + "-images-idx3-ubyte.gz";
    }

    /** File name of the split's labels ({@code train-labels-idx1-ubyte.gz}, {@code t10k-labels-idx1-ubyte.gz}). */
    public static String labelsFile(Split split) {
        return (split == Split.TRAIN ? "train" : "t10k") + "-labels-idx1-ubyte.gz";
    }

    private static FashionMnist loadFrom(Split split, Path dir, Origin origin) {
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("Fashion-MNIST folder " + dir + " does not exist or is not a folder");
        }
        Path images = findFile(dir, imagesFile(split));
        Path labels = findFile(dir, labelsFile(split));
        if (images == null || labels == null) {
            throw new IllegalArgumentException("Fashion-MNIST folder " + dir + " lacks "
                    + (images == null ? imagesFile(split) : "") + (images == null && labels == null ? " and " : "")
                    + (labels == null ? labelsFile(split) : "") + " (with or without .gz)");
        }
        try {
            Idx.Labelled data = Idx.readLabelled(images, labels, NUM_CLASSES);
            String what = origin == Origin.SYSTEM_DIR ? "full Fashion-MNIST from " : "Fashion-MNIST from ";
            String source = what + dir + " (" + data.count() + " " + split.displayName() + ")";
            FashionMnist ds = new FashionMnist(split, origin, source, data);
            LOG.info("Fashion-MNIST {}: {} images from {}", split.displayName(), ds.count, source);
            return ds;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** {@code name} or, failing that, {@code name} without {@code .gz}; null when neither is a regular file. */
    private static Path findFile(Path dir, String name) {
        Path p = dir.resolve(name);
        if (Files.isRegularFile(p)) {
            return p;
        }
        Path plain = dir.resolve(name.substring(0, name.length() - 3));
        return Files.isRegularFile(plain) ? plain : null;
    }

    private static Idx.Labelled readResourcePair(Split split) throws IOException {
        Idx.UbyteArray img = readResource(imagesFile(split));
        Idx.UbyteArray lab = readResource(labelsFile(split));
        return Idx.checkPair(img, "resource " + RESOURCE_DIR + imagesFile(split),
                lab, "resource " + RESOURCE_DIR + labelsFile(split), NUM_CLASSES);
    }

    private static Idx.UbyteArray readResource(String file) throws IOException {
        String name = RESOURCE_DIR + file;
        try (InputStream in = FashionMnist.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("resource " + name + " is missing from the classpath");
            }
            return Idx.read(in, "resource " + name);
        }
    }

    /**
     * Writes a Fashion-MNIST subset in the original file layout (gzipped IDX): from the training split the
     * first {@code perClassTrain} images of every class in their original order, from the test split the
     * first {@code testCount} images. This is how the embedded subset was made
     * ({@code perClassTrain = 600}, {@code testCount = 1000}).
     */
    public static void writeSubset(Path srcDir, Path dstDir, int perClassTrain, int testCount) throws IOException {
        Idx.Labelled train = Idx.readLabelled(findFile(srcDir, imagesFile(Split.TRAIN)),
                findFile(srcDir, labelsFile(Split.TRAIN)), NUM_CLASSES);
        int[] taken = new int[NUM_CLASSES];
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < train.count() && keep.size() < perClassTrain * NUM_CLASSES; i++) {
            int l = train.labels()[i] & 0xff;
            if (taken[l] < perClassTrain) {
                taken[l]++;
                keep.add(i);
            }
        }
        writeSelection(train, keep, dstDir, Split.TRAIN);
        Idx.Labelled test = Idx.readLabelled(findFile(srcDir, imagesFile(Split.TEST)),
                findFile(srcDir, labelsFile(Split.TEST)), NUM_CLASSES);
        List<Integer> first = new ArrayList<>();
        for (int i = 0; i < Math.min(testCount, test.count()); i++) {
            first.add(i);
        }
        writeSelection(test, first, dstDir, Split.TEST);
    }

    private static void writeSelection(Idx.Labelled src, List<Integer> keep, Path dstDir, Split split)
            throws IOException {
        int item = ROWS * COLS;
        byte[] img = new byte[keep.size() * item];
        byte[] lab = new byte[keep.size()];
        for (int j = 0; j < keep.size(); j++) {
            int i = keep.get(j);
            System.arraycopy(src.images().data(), i * item, img, j * item, item);
            lab[j] = src.labels()[i];
        }
        Idx.write(dstDir.resolve(imagesFile(split)), new Idx.UbyteArray(new int[] {keep.size(), ROWS, COLS}, img), true);
        Idx.write(dstDir.resolve(labelsFile(split)), new Idx.UbyteArray(new int[] {keep.size()}, lab), true);
    }

    /** Human string naming where the data came from, e.g. "embedded subset (6000 train, 1000 test)". */
    public String source() {
        return source;
    }

    /** Where the data came from, as a value. */
    public Origin origin() {
        return origin;
    }

    /** The split held. */
    public Split split() {
        return split;
    }

    /** Raw pixel value (0..255) of example {@code index} at row-major position {@code pixel} of 784. */
    public int rawPixel(int index, int pixel) {
        return pixels[index * ROWS * COLS + pixel] & 0xff;
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int numClasses() {
        return NUM_CLASSES;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public int height() {
        return ROWS;
    }

    @Override
    public int width() {
        return COLS;
    }

    @Override
    public List<String> classNames() {
        return CLASS_NAMES;
    }

    @Override
    public void get(int index, float[] dstCHW) {
        Objects.checkIndex(index, count);
        int n = ROWS * COLS;
        if (dstCHW.length < n) {
            throw new IllegalArgumentException("buffer of " + dstCHW.length + " floats is too small for 1x28x28");
        }
        int off = index * n;
        for (int i = 0; i < n; i++) {
            dstCHW[i] = lut[pixels[off + i] & 0xff];
        }
    }

    @Override
    public int label(int index) {
        Objects.checkIndex(index, count);
        return labels[index] & 0xff;
    }

    @Override
    public String description() {
        return "Fashion-MNIST " + split.displayName() + ": " + count + " images 1x28x28, 10 classes, " + source;
    }

    @Override
    public Normalization normalization() {
        return Normalization.FASHION_MNIST;
    }

    @Override
    public String toString() {
        return description();
    }
}
