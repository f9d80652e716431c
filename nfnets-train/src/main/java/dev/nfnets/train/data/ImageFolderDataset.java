package dev.nfnets.train.data;

import dev.nfnets.train.data.augment.FloatImage;
import dev.nfnets.train.data.augment.Interpolation;
import dev.nfnets.train.data.augment.Resize;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Images in a folder tree with one sub-folder per class ({@code root/<class>/**&#47;*.jpg}), the layout of
 * ImageNet's train/val folders and of torchvision's {@code ImageFolder}.
 *
 * <p>Classes are the sub-folders of {@code root} (hidden and OS metadata folders such as {@code __MACOSX} excluded) sorted by name; the index in that
 * order is the label. Files with the extensions {@code .jpg .jpeg .png} (any case) anywhere below a class
 * folder are its examples, sorted by path; other files are ignored. A class folder without images keeps
 * its index (so train and validation trees agree) and is reported in a WARN.
 *
 * <p><b>Readability is decided at index time</b>: with {@link Verify#HEADER} (the default) every file is
 * opened and its image header parsed (decoder found, width and height read); with {@link Verify#DECODE} each
 * image is fully decoded (slow on big sets, but catches corrupt pixel data); with {@link Verify#NONE} nothing
 * is checked. Files that fail are left out of the index, and one WARN gives their count and the first few
 * names with the reason. A file that passes the check but fails to decode later (truncated pixel data) is given as
 * the mean image (all zeros after normalisation) and named in one WARN; {@link #failedFiles()} lists such files.
 *
 * <p>Decoding happens lazily in {@link #get}: ImageIO (with the TwelveMonkeys JPEG plugin on the classpath,
 * which handles CMYK/YCCK and progressive JPEGs) to 8-bit RGB (grey images are replicated to 3 channels,
 * alpha is dropped), or with {@link Options#channels()} 1 to one grey channel (colour images through the
 * ITU-R 601-2 luma, as PIL's {@code convert("L")}), then the shorter side is resized to {@code resizeShorter} (or, with
 * {@link Options#squash()}, both sides are resized to {@code resizeShorter}), the centre {@code cropSize}
 * square is cut out (offset {@code (d - cropSize + 1) / 2}), and the pixels are normalised with
 * {@code (x - 255*mean) / (255*std)} (ImageNet statistics by default, the NFNet reference).
 */
public final class ImageFolderDataset implements Dataset {
    private static final Logger LOG = LoggerFactory.getLogger(ImageFolderDataset.class);
    private static final int NAMES_IN_WARNING = 5;

    /** How much to check each file at index time. */
    public enum Verify {
        /** Accept every file with an image extension. */
        NONE,
        /** Parse the header: a decoder exists and reports positive dimensions. */
        HEADER,
        /** Decode the whole image. */
        DECODE
    }

    /**
     * Preprocessing and indexing options.
     *
     * @param cropSize      side of the square output
     * @param resizeShorter target of the shorter side before cropping (at least {@code cropSize})
     * @param squash        resize both sides to {@code resizeShorter} (the reference eval's aspect-changing
     *                      resize) instead of keeping the aspect ratio
     * @param interpolation resampling kernel
     * @param normalization pixel normalisation (0..255 units)
     * @param verify        index-time check of each file
     * @param channels      3 (RGB) or 1 (grey)
     */
    public record Options(int cropSize, int resizeShorter, boolean squash, Interpolation interpolation,
                          Normalization normalization, Verify verify, int channels) implements java.io.Serializable {
        /** RGB options. */
        public Options(int cropSize, int resizeShorter, boolean squash, Interpolation interpolation,
                       Normalization normalization, Verify verify) {
            this(cropSize, resizeShorter, squash, interpolation, normalization, verify, 3);
        }

        public Options {
            if (cropSize <= 0) {
                throw new IllegalArgumentException("cropSize must be positive, got " + cropSize);
            }
            if (resizeShorter < cropSize) {
                throw new IllegalArgumentException("resizeShorter (" + resizeShorter + ") must be >= cropSize ("
                        + cropSize + ")");
            }
            Objects.requireNonNull(interpolation, "interpolation");
            Objects.requireNonNull(normalization, "normalization");
            Objects.requireNonNull(verify, "verify");
            if (normalization.mean().length != 1 && normalization.mean().length != 3) {
                throw new IllegalArgumentException("normalisation must have 1 or 3 channels");
            }
            if (channels != 1 && channels != 3) {
                throw new IllegalArgumentException("channels must be 1 (grey) or 3 (RGB), got " + channels);
            }
            if (normalization.mean().length > channels) {
                throw new IllegalArgumentException("a " + normalization.mean().length + "-channel normalisation does not fit "
                        + channels + "-channel images");
            }
        }

        /**
         * Defaults for a {@code cropSize} output: shorter side to {@code cropSize + 32} (the reference's eval
         * margin), bicubic, ImageNet normalisation, header check.
         */
        public static Options of(int cropSize) {
            return new Options(cropSize, cropSize + 32, false, Interpolation.BICUBIC, Normalization.IMAGENET,
                    Verify.HEADER);
        }

        /**
         * Defaults for one grey channel of {@code cropSize}, as {@code Preprocessing.grayscale} prepares images for
         * one-channel models: both sides resized to {@code cropSize} (the whole image, no crop), bicubic,
         * Fashion-MNIST normalisation, header check.
         */
        public static Options grey(int cropSize) {
            return new Options(cropSize, cropSize, true, Interpolation.BICUBIC, Normalization.FASHION_MNIST, Verify.HEADER, 1);
        }

        /** These options with {@code v} channels; a 3-channel normalisation becomes Fashion-MNIST's for 1 channel. */
        public Options withChannels(int v) {
            Normalization n = v == 1 && normalization.mean().length == 3 ? Normalization.FASHION_MNIST : normalization;
            return new Options(cropSize, resizeShorter, squash, interpolation, n, verify, v);
        }

        public Options withResizeShorter(int v) {
            return new Options(cropSize, v, squash, interpolation, normalization, verify, channels);
        }

        public Options withSquash(boolean v) {
            return new Options(cropSize, resizeShorter, v, interpolation, normalization, verify, channels);
        }

        public Options withInterpolation(Interpolation v) {
            return new Options(cropSize, resizeShorter, squash, v, normalization, verify, channels);
        }

        public Options withNormalization(Normalization v) {
            return new Options(cropSize, resizeShorter, squash, interpolation, v, verify, channels);
        }

        public Options withVerify(Verify v) {
            return new Options(cropSize, resizeShorter, squash, interpolation, normalization, v, channels);
        }
    }

    private final Path root;
    private final Options options;
    private final List<String> classNames;
    private final List<Path> files;
    private final int[] labels;
    private final List<String> skipped;
    private final java.util.Set<String> failed = new java.util.TreeSet<>();

    private ImageFolderDataset(Path root, Options options, List<String> classNames, List<Path> files,
                               int[] labels, List<String> skipped) {
        this.root = root;
        this.options = options;
        this.classNames = classNames;
        this.files = files;
        this.labels = labels;
        this.skipped = skipped;
    }

    /** Indexes {@code root} with {@link Options#of(int) Options.of(cropSize)}. */
    public static ImageFolderDataset open(Path root, int cropSize) {
        return open(root, Options.of(cropSize));
    }

    /**
     * Indexes {@code root}.
     *
     * @throws IllegalArgumentException when {@code root} is not a folder, has no class sub-folders, or no
     *                                  readable image (the message names the folder)
     */
    public static ImageFolderDataset open(Path root, Options options) {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(options, "options");
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("image folder " + root + " does not exist or is not a folder");
        }
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(Files::isDirectory)
                    .filter(p -> !isHiddenOrSystem(p.getFileName().toString()))
                    .sorted()
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list image folder " + root + ": " + e.getMessage(), e);
        }
        if (classDirs.isEmpty()) {
            throw new IllegalArgumentException("image folder " + root + " has no class sub-folders");
        }
        List<String> names = new ArrayList<>();
        List<Path> candidates = new ArrayList<>();
        List<Integer> candidateLabels = new ArrayList<>();
        for (int k = 0; k < classDirs.size(); k++) {
            Path dir = classDirs.get(k);
            names.add(dir.getFileName().toString());
            List<Path> imgs;
            try (Stream<Path> s = Files.walk(dir)) {
                imgs = s.filter(Files::isRegularFile).filter(ImageFolderDataset::hasImageExtension)
                        .filter(p -> !hiddenBelow(dir, p))
                        .sorted().collect(Collectors.toList());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list class folder " + dir + ": " + e.getMessage(), e);
            }
            for (Path p : imgs) {
                candidates.add(p);
                candidateLabels.add(k);
            }
        }
        String[] problems = new String[candidates.size()];
        if (options.verify() != Verify.NONE) {
            IntStream.range(0, candidates.size()).parallel()
                    .forEach(i -> problems[i] = check(candidates.get(i), options.verify()));
        }
        List<Path> files = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int[] labelsTmp = new int[candidates.size()];
        int[] perClass = new int[names.size()];
        for (int i = 0; i < candidates.size(); i++) {
            if (problems[i] != null) {
                skipped.add(root.relativize(candidates.get(i)) + " (" + problems[i] + ")");
                continue;
            }
            labelsTmp[files.size()] = candidateLabels.get(i);
            perClass[candidateLabels.get(i)]++;
            files.add(candidates.get(i));
        }
        if (!skipped.isEmpty()) {
            LOG.warn("Skipped {} unreadable image file(s) under {}: {}{}", skipped.size(), root,
                    String.join(", ", skipped.subList(0, Math.min(NAMES_IN_WARNING, skipped.size()))),
                    skipped.size() > NAMES_IN_WARNING ? ", ... (" + (skipped.size() - NAMES_IN_WARNING) + " more)" : "");
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("image folder " + root + " has no readable .jpg/.jpeg/.png images in its "
                    + names.size() + " class sub-folder(s)" + (skipped.isEmpty() ? "" : " (" + skipped.size() + " unreadable)"));
        }
        List<String> empty = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
            if (perClass[k] == 0) {
                empty.add(names.get(k));
            }
        }
        if (!empty.isEmpty()) {
            LOG.warn("{} class folder(s) under {} have no readable images (their indices are kept): {}",
                    empty.size(), root, String.join(", ", empty.subList(0, Math.min(NAMES_IN_WARNING, empty.size())))
                            + (empty.size() > NAMES_IN_WARNING ? ", ..." : ""));
        }
        ImageFolderDataset ds = new ImageFolderDataset(root, options, List.copyOf(names), List.copyOf(files),
                java.util.Arrays.copyOf(labelsTmp, files.size()), List.copyOf(skipped));
        LOG.info("{}", ds.description());
        return ds;
    }

    /**
     * Folders and files that belong to the operating system or an archiver rather than to the data: dot-names
     * ({@code .DS_Store}, {@code .git}, AppleDouble {@code ._x.jpg}), macOS zip metadata ({@code __MACOSX}),
     * Windows' {@code $RECYCLE.BIN} and {@code System Volume Information}, Synology's {@code @eaDir}, {@code Thumbs.db}.
     */
    static boolean isHiddenOrSystem(String name) {
        return name.startsWith(".") || name.equals("__MACOSX") || name.equalsIgnoreCase("$RECYCLE.BIN")
                || name.equals("System Volume Information") || name.equals("@eaDir") || name.equalsIgnoreCase("Thumbs.db");
    }

    /** Whether a component of {@code file}'s path below {@code dir} is hidden or OS metadata. */
    private static boolean hiddenBelow(Path dir, Path file) {
        for (Path part : dir.relativize(file)) {
            if (isHiddenOrSystem(part.toString())) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasImageExtension(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png");
    }

    /** Null when the file passes the check, else a short reason. */
    private static String check(Path file, Verify verify) {
        try {
            if (verify == Verify.DECODE) {
                decodeRgb(file);
                return null;
            }
            try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
                if (in == null) {
                    return "cannot open";
                }
                Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
                if (!readers.hasNext()) {
                    return "not a JPEG/PNG image";
                }
                ImageReader reader = readers.next();
                try {
                    reader.setInput(in, true, true);
                    int w = reader.getWidth(0);
                    int h = reader.getHeight(0);
                    if (w <= 0 || h <= 0) {
                        return "bad size " + w + "x" + h;
                    }
                    if ((long) w * h > dev.nfnets.core.io.Limits.maxImagePixels()) {
                        return w + "x" + h + " pixels, more than the limit of " + dev.nfnets.core.io.Limits.maxImagePixels()
                                + " (-D" + dev.nfnets.core.io.Limits.MAX_IMAGE_PIXELS + ")";
                    }
                } finally {
                    reader.dispose();
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            String msg = e.getMessage();
            if (msg == null || msg.isBlank()) {
                return e.getClass().getSimpleName();
            }
            String prefix = file + ": ";
            return msg.startsWith(prefix) ? msg.substring(prefix.length()) : msg;
        }
    }

    /**
     * Decodes a file to 8-bit RGB as a planar {@code 3 x H x W} float image with values
     * 0..255.
     *
     * @throws IOException when no decoder accepts the file or decoding fails
     */
    public static FloatImage decodeRgb(Path file) throws IOException {
        // one decoder for training and inference: the same pixels either way
        BufferedImage img = dev.nfnets.core.inference.Images.read(file);
        return new FloatImage(dev.nfnets.core.inference.Images.rgb(img), 3, img.getHeight(), img.getWidth());
    }

    /**
     * Resizes and centre-crops a 0..255 image as this dataset does (without normalising): public so that
     * single images can be preprocessed the same way for inference.
     */
    /** Decodes a file to one grey {@code 1 x H x W} plane with values 0..255 (colour through the 601-2 luma). */
    public static FloatImage decodeGrey(Path file) throws IOException {
        BufferedImage img = dev.nfnets.core.inference.Images.read(file);
        return new FloatImage(dev.nfnets.core.inference.Images.grey(img), 1, img.getHeight(), img.getWidth());
    }

    private FloatImage decode(Path file) throws IOException {
        return options.channels() == 1 ? decodeGrey(file) : decodeRgb(file);
    }

    public static FloatImage resizeAndCrop(FloatImage rgb, Options options) {
        int h = rgb.height();
        int w = rgb.width();
        int rs = options.resizeShorter();
        int vh;
        int vw;
        if (options.squash()) {
            vh = rs;
            vw = rs;
        } else if (h <= w) {
            vh = rs;
            vw = Math.max(rs, (int) Math.round((double) w * rs / h));
        } else {
            vw = rs;
            vh = Math.max(rs, (int) Math.round((double) h * rs / w));
        }
        int s = options.cropSize();
        int oy = (vh - s + 1) / 2;
        int ox = (vw - s + 1) / 2;
        return Resize.resample(rgb, 0, 0, h, w, vh, vw, oy, ox, s, s, options.interpolation());
    }

    @Override
    public void get(int index, float[] dstCHW) {
        Objects.checkIndex(index, files.size());
        int s = options.cropSize();
        int c = options.channels();
        int n = c * s * s;
        if (dstCHW.length < n) {
            throw new IllegalArgumentException("buffer of " + dstCHW.length + " floats is too small for " + c + "x" + s + "x" + s);
        }
        Path file = files.get(index);
        FloatImage rgb;
        try {
            rgb = decode(file);
        } catch (IOException e) {
            failedAtRuntime(file, e);
            java.util.Arrays.fill(dstCHW, 0, n, 0f);   // the normalised mean image: carries no signal for its label
            return;
        }
        FloatImage out = resizeAndCrop(rgb, options);
        float[] d = out.data();
        options.normalization().normalizeInPlace(d, c, s * s);
        System.arraycopy(d, 0, dstCHW, 0, n);
    }

    /**
     * The decoded image at its own size, 3 channels, normalised, without resizing or cropping: what a
     * training crop such as {@link dev.nfnets.train.data.augment.RandomResizedCrop} should start from (see
     * {@link BatchLoader.Builder#augmentOriginals(boolean)}).
     */
    @Override
    public FloatImage original(int index) {
        Objects.checkIndex(index, files.size());
        FloatImage rgb;
        try {
            rgb = decode(files.get(index));
        } catch (IOException e) {
            failedAtRuntime(files.get(index), e);
            int s = options.cropSize();
            return new FloatImage(new float[3 * s * s], 3, s, s);   // the normalised mean image
        }
        options.normalization().normalizeInPlace(rgb.data(), rgb.channels(), rgb.plane());
        return rgb;
    }

    @Override
    public int label(int index) {
        Objects.checkIndex(index, files.size());
        return labels[index];
    }

    /**
     * A file that passed the index-time check but failed to decode (truncated or corrupt pixel data): the run goes
     * on with the mean image in its place, and one WARN per file names it ({@link #failedFiles()} lists them all).
     */
    private void failedAtRuntime(Path file, IOException e) {
        synchronized (failed) {
            if (failed.add(root.relativize(file).toString())) {
                LOG.warn("{}: cannot decode ({}); used as the mean image from now on. {} file(s) of {} failed so far: {}", file,
                        e.getMessage(), failed.size(), root, String.join(", ", failed));
            }
        }
    }

    /** Files that passed the index-time check but failed to decode later, relative to the root. */
    public java.util.Set<String> failedFiles() {
        synchronized (failed) {
            return java.util.Set.copyOf(failed);
        }
    }

    /**
     * This dataset labelled by {@code names} (e.g. the training set's classes): each of its classes takes the index of
     * the same name there, so a test folder with fewer classes, or a training run's {@code classes.txt}, scores
     * against the right outputs.
     *
     * @throws IllegalArgumentException naming both lists when one of this dataset's classes with images is not in
     *                                  {@code names}
     */
    public ImageFolderDataset relabelledAs(List<String> names) {
        if (names.equals(classNames)) {
            return this;
        }
        java.util.Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            index.put(names.get(i), i);
        }
        List<String> unknown = new ArrayList<>();
        int[] mapped = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            Integer k = index.get(classNames.get(labels[i]));
            if (k == null) {
                if (!unknown.contains(classNames.get(labels[i]))) {
                    unknown.add(classNames.get(labels[i]));
                }
            } else {
                mapped[i] = k;
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("the classes of " + root + " " + classNames + " do not match the expected classes "
                    + names + ": " + unknown + " " + (unknown.size() == 1 ? "is" : "are") + " not among them");
        }
        LOG.info("{}: classes {} scored against the classes {} by name", root, classNames, names);
        return new ImageFolderDataset(root, options, List.copyOf(names), files, mapped, skipped);
    }

    /** The file of example {@code index}. */
    public Path file(int index) {
        return files.get(index);
    }

    /** The indexed files, in example order. */
    public List<Path> files() {
        return files;
    }

    /**
     * Files left out at index time, as {@code "relative/path (reason)"}.
     */
    public List<String> skipped() {
        return Collections.unmodifiableList(skipped);
    }

    /** The root folder. */
    public Path root() {
        return root;
    }

    public Options options() {
        return options;
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public int numClasses() {
        return classNames.size();
    }

    @Override
    public int channels() {
        return options.channels();
    }

    @Override
    public int height() {
        return options.cropSize();
    }

    @Override
    public int width() {
        return options.cropSize();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public Normalization normalization() {
        return options.normalization();
    }

    @Override
    public String description() {
        return "image folder " + root + ": " + files.size() + " images in " + classNames.size() + " classes"
                + (skipped.isEmpty() ? "" : " (" + skipped.size() + " unreadable skipped)") + ", " + options.channels() + "x"
                + options.cropSize() + "x" + options.cropSize() + (options.squash() ? " (squash " : " (shorter side ")
                + options.resizeShorter() + ", centre crop, " + options.interpolation().name().toLowerCase(Locale.ROOT) + ")";
    }

    @Override
    public String toString() {
        return description();
    }
}
