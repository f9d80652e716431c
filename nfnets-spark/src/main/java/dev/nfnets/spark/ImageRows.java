package dev.nfnets.spark;

import dev.nfnets.core.inference.Images;
import dev.nfnets.core.io.Limits;
import dev.nfnets.train.data.Dataset;
import dev.nfnets.train.data.ImageFolderDataset;
import dev.nfnets.train.data.Normalization;
import dev.nfnets.train.data.augment.FloatImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training images that live in a Spark {@code Dataset<Row>} (encoded JPEG/PNG bytes with a label), indexed once and
 * cached on the executors, for {@link SparkGradientSource#SparkGradientSource(org.apache.spark.api.java.JavaSparkContext,
 * dev.nfnets.train.Trainer, ImageRows, int)}.
 *
 * <p><b>Global order.</b> Classes are the distinct labels sorted by name (their index is the label); examples are
 * sorted by label, then by path (or the given key column), and numbered {@code 0..N-1} in that order. For
 * {@link #binaryFiles} this is exactly {@link ImageFolderDataset}'s order over the same folder tree (class = the
 * first folder below the root; {@code .jpg .jpeg .png} files only; hidden and OS metadata folders and files left
 * out; files whose header cannot be read left out), so training from the rows equals training from the folder.
 * A class folder without images is not seen by {@code binaryFile}, unlike {@link ImageFolderDataset}, which keeps
 * its index.
 *
 * <p><b>Where examples live.</b> The sorted examples are cut into contiguous blocks of global indices, one cached
 * block per partition ({@link StorageLevel#MEMORY_AND_DISK()}), so the bytes stay on the executors that read them.
 * The driver keeps only the labels and class names ({@link #dataset()}). Each training step reads, from the blocks
 * that hold them, exactly the examples of the step's batch and sends each to the task of its shard (all of them to
 * every shard with MixUp/CutMix, which mixes across the batch); see {@link SparkGradientSource}.
 *
 * <pre>{@code
 * var files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load("/data/train");
 * try (ImageRows rows = ImageRows.binaryFiles(files, "/data/train", ImageFolderDataset.Options.of(192))) {
 *     Trainer trainer = new Trainer(config, rows.dataset(), null, runDir);
 *     try (SparkGradientSource g = new SparkGradientSource(jsc, trainer, rows, jsc.defaultParallelism())) {
 *         trainer.gradientSource(g).fit();
 *     }
 * }
 * }</pre>
 */
public final class ImageRows implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ImageRows.class);
    private static final int NAMES_IN_WARNING = 5;

    /** One example on its way to a shard. */
    record Example(int index, int label, byte[] content) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** One cached partition: the examples {@code [start, start + labels.length)} of the global order. */
    record Block(int start, int[] labels, byte[][] contents) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** What every worker needs to know about the data besides the examples it receives. */
    record Meta(int size, List<String> classNames, ImageFolderDataset.Options options, String description)
            implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** One indexed image before sorting. */
    private record Candidate(String label, String key, byte[] content, String problem) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Sort key: label index, then the path (compared as {@link Path}s, as a folder listing sorts) or the key. */
    record SortKey(int label, String key, boolean asPath) implements Comparable<SortKey>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compareTo(SortKey o) {
            int c = Integer.compare(label, o.label);
            if (c != 0) {
                return c;
            }
            return asPath ? Path.of(key).compareTo(Path.of(o.key)) : key.compareTo(o.key);
        }
    }

    private final JavaRDD<Block> blocks;
    private final int[] starts;
    private final int[] labels;
    private final Meta meta;

    private ImageRows(JavaRDD<Block> blocks, int[] starts, int[] labels, Meta meta) {
        this.blocks = blocks;
        this.starts = starts;
        this.labels = labels;
        this.meta = meta;
    }

    /**
     * The rows of {@code spark.read().format("binaryFile")} (columns {@code path} and {@code content}) over a folder
     * tree with one sub-folder per class below {@code root}, read like {@link ImageFolderDataset} reads the folder.
     *
     * @param root    the folder the class folders are in (a path or a URI such as {@code file:/data/train});
     *                null: each file's class is the name of the folder it is in
     * @param options preprocessing, as for {@link ImageFolderDataset#open(Path, ImageFolderDataset.Options)}
     * @throws IllegalArgumentException naming the column when {@code path} or {@code content} is missing or of the
     *                                  wrong type, or when no readable image is found
     */
    public static ImageRows binaryFiles(org.apache.spark.sql.Dataset<Row> files, String root, ImageFolderDataset.Options options) {
        Objects.requireNonNull(files, "files");
        Objects.requireNonNull(options, "options");
        requireColumn(files.schema(), "path", DataTypes.StringType, "the file path");
        requireColumn(files.schema(), "content", DataTypes.BinaryType, "the file's bytes");
        String rootPath = root == null ? null : pathOf(root);
        ImageFolderDataset.Verify verify = options.verify();
        JavaRDD<Candidate> candidates = files.select("path", "content").javaRDD().flatMap(row -> {
            String path = pathOf(row.getString(0));
            String label = folderLabel(rootPath, path);
            if (label == null) {
                return Collections.emptyIterator();
            }
            byte[] content = (byte[]) row.get(1);
            return List.of(new Candidate(label, path, content, check(content, verify))).iterator();
        });
        String from = "binaryFile rows" + (root == null ? "" : " of " + root);
        return index(candidates, true, options, from);
    }

    /**
     * Any rows with encoded image bytes and a label.
     *
     * @param contentColumn binary column of JPEG/PNG/BMP/GIF bytes
     * @param labelColumn   string column of class names (classes are the sorted distinct names) or integer column of
     *                      class indices {@code 0..K-1} (class names {@code "0".."K-1"})
     * @param keyColumn     string column that orders the examples within a class (unique per row, e.g. a path or id)
     * @throws IllegalArgumentException naming the column when a column is missing or of the wrong type
     */
    public static ImageRows labelled(org.apache.spark.sql.Dataset<Row> rows, String contentColumn, String labelColumn,
                                     String keyColumn, ImageFolderDataset.Options options) {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(options, "options");
        StructType schema = rows.schema();
        requireColumn(schema, contentColumn, DataTypes.BinaryType, "the image bytes");
        requireColumn(schema, keyColumn, DataTypes.StringType, "the order within a class");
        DataType labelType = column(schema, labelColumn, "the label").dataType();
        boolean integer = labelType.equals(DataTypes.IntegerType) || labelType.equals(DataTypes.LongType);
        if (!integer && !labelType.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("label column '" + labelColumn + "' is " + labelType.simpleString()
                    + "; it must hold class names (string) or class indices (int)");
        }
        ImageFolderDataset.Verify verify = options.verify();
        JavaRDD<Candidate> candidates = rows.select(contentColumn, labelColumn, keyColumn).javaRDD().map(row -> {
            if (row.isNullAt(0) || row.isNullAt(1) || row.isNullAt(2)) {
                throw new IllegalArgumentException("a row has a null " + (row.isNullAt(0) ? contentColumn : row.isNullAt(1)
                        ? labelColumn : keyColumn) + (row.isNullAt(2) ? "" : " (key " + row.getString(2) + ")"));
            }
            String label = integer ? String.format(Locale.ROOT, "%010d", ((Number) row.get(1)).longValue()) : row.getString(1);
            if (integer && ((Number) row.get(1)).longValue() < 0) {
                throw new IllegalArgumentException("label column '" + labelColumn + "' holds " + row.get(1)
                        + " (key " + row.getString(2) + "): class indices start at 0");
            }
            byte[] content = (byte[]) row.get(0);
            return new Candidate(label, row.getString(2), content, check(content, verify));
        });
        ImageRows r = index(candidates, false, options, "rows (" + contentColumn + ", " + labelColumn + ")");
        if (integer) {
            // class indices: names "0".."K-1", every index up to the largest one a class
            int k = Integer.parseInt(r.meta.classNames().get(r.meta.classNames().size() - 1)) + 1;
            List<String> names = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                names.add(Integer.toString(i));
            }
            int[] mapped = new int[r.labels.length];
            for (int i = 0; i < mapped.length; i++) {
                mapped[i] = Integer.parseInt(r.meta.classNames().get(r.labels[i]));
            }
            Meta m = new Meta(r.meta.size(), List.copyOf(names), options, r.meta.description());
            JavaRDD<Block> relabelled = r.blocks.map(b -> {
                int[] l = new int[b.labels().length];
                for (int i = 0; i < l.length; i++) {
                    l[i] = mapped[b.start() + i];
                }
                return new Block(b.start(), l, b.contents());
            }).persist(StorageLevel.MEMORY_AND_DISK());
            relabelled.count();
            r.blocks.unpersist(false);
            return new ImageRows(relabelled, r.starts, mapped, m);
        }
        return r;
    }

    private static ImageRows index(JavaRDD<Candidate> candidates, boolean pathOrder, ImageFolderDataset.Options options,
                                   String from) {
        JavaRDD<Candidate> all = candidates.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            JavaRDD<Candidate> bad = all.filter(c -> c.problem() != null);
            long skipped = bad.count();
            if (skipped > 0) {
                List<String> names = bad.map(c -> c.key() + " (" + c.problem() + ")").take(NAMES_IN_WARNING);
                log.warn("Skipped {} unreadable image(s) of {}: {}{}", skipped, from, String.join(", ", names),
                        skipped > NAMES_IN_WARNING ? ", ... (" + (skipped - NAMES_IN_WARNING) + " more)" : "");
            }
            JavaRDD<Candidate> good = all.filter(c -> c.problem() == null);
            List<String> classes = new ArrayList<>(good.map(Candidate::label).distinct().collect());
            if (classes.isEmpty()) {
                throw new IllegalArgumentException(from + " hold no readable .jpg/.jpeg/.png image" + (skipped > 0 ? " ("
                        + skipped + " unreadable)" : ""));
            }
            Collections.sort(classes);
            List<String> classNames = List.copyOf(classes);
            int partitions = Math.max(1, all.getNumPartitions());
            JavaRDD<Candidate> sorted = good.sortBy(c -> new SortKey(Collections.binarySearch(classNames, c.label()), c.key(),
                    pathOrder), true, partitions);
            List<Integer> counts = sorted.mapPartitions(it -> {
                int n = 0;
                for (; it.hasNext(); it.next()) {
                    n++;
                }
                return List.of(n).iterator();
            }).collect();
            int[] starts = new int[counts.size() + 1];
            for (int i = 0; i < counts.size(); i++) {
                starts[i + 1] = Math.addExact(starts[i], counts.get(i));
            }
            JavaRDD<Block> blocks = sorted.mapPartitionsWithIndex((p, it) -> {
                List<Candidate> part = new ArrayList<>();
                it.forEachRemaining(part::add);
                int[] l = new int[part.size()];
                byte[][] contents = new byte[part.size()][];
                for (int i = 0; i < l.length; i++) {
                    l[i] = Collections.binarySearch(classNames, part.get(i).label());
                    contents[i] = part.get(i).content();
                }
                return List.of(new Block(starts[p], l, contents)).iterator();
            }, true).persist(StorageLevel.MEMORY_AND_DISK());
            int[] labels = new int[starts[starts.length - 1]];
            for (Block b : blocks.map(b -> new Block(b.start(), b.labels(), new byte[0][])).collect()) {
                System.arraycopy(b.labels(), 0, labels, b.start(), b.labels().length);
            }
            String description = String.format(Locale.ROOT, "%s: %d images in %d classes%s, %dx%dx%d (%s %d, centre crop, %s), "
                            + "cached on the executors in %d blocks", from, labels.length, classNames.size(),
                    skipped > 0 ? " (" + skipped + " unreadable skipped)" : "", options.channels(), options.cropSize(),
                    options.cropSize(), options.squash() ? "squash" : "shorter side", options.resizeShorter(),
                    options.interpolation().name().toLowerCase(Locale.ROOT), counts.size());
            log.info("{}", description);
            return new ImageRows(blocks, starts, labels, new Meta(labels.length, classNames, options, description));
        } finally {
            all.unpersist(false);
        }
    }

    /** Number of examples. */
    public int size() {
        return meta.size();
    }

    /** Class names, index = label. */
    public List<String> classNames() {
        return meta.classNames();
    }

    /**
     * The data as the driver's {@link dev.nfnets.train.Trainer} sees it: size, classes, labels and image shape.
     * Its examples are on the executors: {@link Dataset#get} fails here.
     */
    public Dataset dataset() {
        return new DriverView(meta, labels);
    }

    JavaRDD<Block> blocks() {
        return blocks;
    }

    Meta meta() {
        return meta;
    }

    /** Index of the block (partition) that holds example {@code index}. */
    int blockOf(int index) {
        Objects.checkIndex(index, meta.size());
        int p = Arrays.binarySearch(starts, index);
        if (p >= 0) {
            while (p + 1 < starts.length && starts[p + 1] == index) {
                p++;   // skip empty blocks
            }
            return p;
        }
        return -p - 2;
    }

    /** Removes the cached blocks from the executors. */
    @Override
    public void close() {
        blocks.unpersist(false);
    }

    // ---- reading ----

    private static void requireColumn(StructType schema, String name, DataType type, String what) {
        StructField f = column(schema, name, what);
        if (!f.dataType().equals(type)) {
            throw new IllegalArgumentException("column '" + name + "' (" + what + ") is " + f.dataType().simpleString()
                    + ", expected " + type.simpleString());
        }
    }

    private static StructField column(StructType schema, String name, String what) {
        Objects.requireNonNull(name, what + " column");
        for (StructField f : schema.fields()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("no column '" + name + "' (" + what + ") among the columns "
                + Arrays.toString(schema.fieldNames()));
    }

    /**
     * A path or URI as a plain path: {@code binaryFile}'s paths are Hadoop paths ({@code file:/a/b c.png},
     * {@code hdfs://host/a}), a root may be a URI ({@code file:///a/}) or a path.
     */
    static String pathOf(String pathOrUri) {
        try {
            String p = new org.apache.hadoop.fs.Path(pathOrUri).toUri().getPath();
            return p == null || p.isEmpty() ? pathOrUri : p;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a path or URI: " + pathOrUri, e);
        }
    }

    /**
     * The class of the file at {@code path} (the first folder below {@code root}, or with no root the folder the file
     * is in), or null when {@link ImageFolderDataset} would not index the file: not below the root in a class folder,
     * not a {@code .jpg/.jpeg/.png} file, or a hidden or OS metadata name on the way.
     */
    static String folderLabel(String root, String path) {
        String lower = path.toLowerCase(Locale.ROOT);
        if (!(lower.endsWith(".jpg") || lower.endsWith(".jpeg") || lower.endsWith(".png"))) {
            return null;
        }
        Path file = Path.of(path);
        Path rel;
        if (root == null) {
            if (file.getParent() == null || file.getParent().getFileName() == null) {
                return null;
            }
            rel = file.getParent().getParent() == null ? file : file.getParent().getParent().relativize(file);
        } else {
            Path r = Path.of(root);
            if (!file.startsWith(r)) {
                return null;
            }
            rel = r.relativize(file);
        }
        if (rel.getNameCount() < 2) {
            return null;
        }
        for (Path part : rel) {
            if (hiddenOrSystem(part.toString())) {
                return null;
            }
        }
        return rel.getName(0).toString();
    }

    /** As {@link ImageFolderDataset}: names of the operating system or an archiver rather than of the data. */
    private static boolean hiddenOrSystem(String name) {
        return name.startsWith(".") || name.equals("__MACOSX") || name.equalsIgnoreCase("$RECYCLE.BIN")
                || name.equals("System Volume Information") || name.equals("@eaDir") || name.equalsIgnoreCase("Thumbs.db");
    }

    /** Null when the bytes pass {@code verify}, else a short reason (the index-time check of {@link ImageFolderDataset}). */
    static String check(byte[] content, ImageFolderDataset.Verify verify) {
        if (verify == ImageFolderDataset.Verify.NONE) {
            return null;
        }
        try {
            read(content, verify == ImageFolderDataset.Verify.DECODE);
            return null;
        } catch (IOException | RuntimeException e) {
            return e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        }
    }

    /**
     * Decodes encoded image bytes with ImageIO as {@link Images#read} decodes a file (the same reader, the same pixel
     * limit); with {@code decode} false only the header is read and null is returned.
     */
    static BufferedImage read(byte[] content, boolean decode) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(content))) {
            Iterator<ImageReader> readers = in == null ? Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException("not a decodable image (no ImageIO reader recognises its content)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w <= 0 || h <= 0 || w * h > Limits.maxImagePixels()) {
                    throw new IOException(String.format(Locale.ROOT, "%d x %d pixels, more than the limit of %d (-D%s)", w, h,
                            Limits.maxImagePixels(), Limits.MAX_IMAGE_PIXELS));
                }
                if (!decode) {
                    return null;
                }
                BufferedImage img = reader.read(0);
                if (img == null) {
                    throw new IOException("not a decodable image");
                }
                return img;
            } finally {
                reader.dispose();
            }
        }
    }

    /** The image as 0..255 planes, 3 (RGB) or 1 (grey) channels. */
    static FloatImage decode(byte[] content, int channels) throws IOException {
        BufferedImage img = read(content, true);
        return channels == 1 ? new FloatImage(Images.grey(img), 1, img.getHeight(), img.getWidth())
                : new FloatImage(Images.rgb(img), 3, img.getHeight(), img.getWidth());
    }

    // ---- datasets ----

    /** The metadata every view shares. */
    private abstract static class View implements Dataset {
        final Meta meta;

        View(Meta meta) {
            this.meta = meta;
        }

        @Override
        public int size() {
            return meta.size();
        }

        @Override
        public int numClasses() {
            return meta.classNames().size();
        }

        @Override
        public int channels() {
            return meta.options().channels();
        }

        @Override
        public int height() {
            return meta.options().cropSize();
        }

        @Override
        public int width() {
            return meta.options().cropSize();
        }

        @Override
        public List<String> classNames() {
            return meta.classNames();
        }

        @Override
        public Normalization normalization() {
            return meta.options().normalization();
        }

        @Override
        public String description() {
            return meta.description();
        }
    }

    /** The driver's view: labels, no examples. */
    private static final class DriverView extends View {
        private final int[] labels;

        DriverView(Meta meta, int[] labels) {
            super(meta);
            this.labels = labels;
        }

        @Override
        public void get(int index, float[] dstCHW) {
            throw new UnsupportedOperationException("the examples of " + meta.description() + " are on the Spark executors; "
                    + "train with new SparkGradientSource(sc, trainer, rows, shards)");
        }

        @Override
        public int label(int index) {
            return labels[index];
        }
    }

    /**
     * A task's view: the examples the step sent to its shard, preprocessed exactly as {@link ImageFolderDataset#get}
     * and {@link ImageFolderDataset#original} preprocess the same file.
     */
    static final class ShardView extends View {
        private final Map<Integer, Example> examples;

        ShardView(Meta meta, Map<Integer, Example> examples) {
            super(meta);
            this.examples = examples;
        }

        private Example example(int index) {
            Example e = examples.get(index);
            if (e == null) {
                throw new IllegalStateException("example " + index + " of " + meta.description() + " was not sent to this shard");
            }
            return e;
        }

        @Override
        public void get(int index, float[] dstCHW) {
            ImageFolderDataset.Options o = meta.options();
            int n = o.channels() * o.cropSize() * o.cropSize();
            FloatImage img;
            try {
                img = decode(example(index).content(), o.channels());
            } catch (IOException e) {
                log.warn("example {}: cannot decode ({}); used as the mean image", index, e.getMessage());
                Arrays.fill(dstCHW, 0, n, 0f);
                return;
            }
            float[] d = ImageFolderDataset.resizeAndCrop(img, o).data();
            o.normalization().normalizeInPlace(d, o.channels(), o.cropSize() * o.cropSize());
            System.arraycopy(d, 0, dstCHW, 0, n);
        }

        @Override
        public FloatImage original(int index) {
            ImageFolderDataset.Options o = meta.options();
            FloatImage img;
            try {
                img = decode(example(index).content(), o.channels());
            } catch (IOException e) {
                log.warn("example {}: cannot decode ({}); used as the mean image", index, e.getMessage());
                return new FloatImage(new float[3 * o.cropSize() * o.cropSize()], 3, o.cropSize(), o.cropSize());
            }
            o.normalization().normalizeInPlace(img.data(), img.channels(), img.plane());
            return img;
        }

        @Override
        public int label(int index) {
            return example(index).label();
        }
    }
}
