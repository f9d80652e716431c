package dev.nfnets.core.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy {@code .npz} archives: zip files whose entries are {@code <key>.npy} arrays, as written by
 * {@code numpy.savez} (stored entries, ZIP64 extra fields) and {@code numpy.savez_compressed} (deflated entries).
 *
 * <p>Keys are entry names without the trailing {@code .npy}; they may contain slashes (Haiku parameter names such as
 * {@code NFNet/~/stem_conv0/w}). Every entry is parsed with {@link Npy}, so fortran order, big-endian dtypes and
 * 0-d arrays are handled, and errors name the archive and the entry. An entry that is not a {@code .npy} file is an
 * error ({@link TensorFormatException}).
 *
 * <p>Writing mirrors {@code numpy.savez}: entry {@code key + ".npy"} per array, in the map's iteration order, stored
 * (or deflated with {@code compress = true}); ZIP64 records are added automatically when sizes require them. Entry
 * timestamps are fixed (1980-01-01), so equal content gives byte-identical archives. The file is replaced atomically
 * ({@link AtomicFiles}).
 *
 * <pre>{@code
 * LinkedHashMap<String, NpyArray> params = Npz.read(Path.of("weights.npz"));
 * INDArray w = params.get("NFNet/~/stem_conv0/w").toINDArray();   // (3, 3, 3, 16) HWIO
 * Npz.write(Path.of("copy.npz"), params);                          // stored, like np.savez
 * Npz.write(Path.of("small.npz"), params, true);                   // deflated, like np.savez_compressed
 * }</pre>
 */
public final class Npz {
    private static final String SUFFIX = ".npy";
    private static final LocalDateTime FIXED_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

    private Npz() {
    }

    /**
     * Reads every entry of an .npz archive.
     *
     * @param file the archive
     * @return key (entry name without {@code .npy}) to array, in archive order
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws TensorFormatException             when the file is not a zip archive, an entry is not a .npy file or an
     *                                           entry is malformed (the message names the entry)
     * @throws IOException                       on read errors
     */
    public static LinkedHashMap<String, NpyArray> read(Path file) throws IOException {
        IoUtil.requireRegularFile(file, ".npz");
        LinkedHashMap<String, NpyArray> out = new LinkedHashMap<>();
        try (ZipFile zip = open(file)) {
            requireWithinLimit(file, zip);
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                String key = keyOf(file, entry);
                if (out.containsKey(key)) {
                    throw new TensorFormatException(file + ": duplicate entry '" + entry.getName() + "'");
                }
                out.put(key, readEntry(file, zip, entry));
            }
        }
        return out;
    }

    /**
     * Reads one array of an .npz archive.
     *
     * @param file the archive
     * @param key  the key (entry name without {@code .npy})
     * @return the array
     * @throws TensorFormatException when there is no such entry or it is malformed
     * @throws IOException           on read errors
     */
    public static NpyArray read(Path file, String key) throws IOException {
        Objects.requireNonNull(key, "key");
        IoUtil.requireRegularFile(file, ".npz");
        try (ZipFile zip = open(file)) {
            ZipEntry entry = zip.getEntry(key + SUFFIX);
            if (entry == null || entry.isDirectory()) {
                throw new TensorFormatException(file + ": no entry '" + key + SUFFIX + "' (key '" + key + "'); the archive has "
                        + zip.size() + " entries");
            }
            return readEntry(file, zip, entry);
        }
    }

    private static ZipFile open(Path file) throws IOException {
        try {
            return new ZipFile(file.toFile(), StandardCharsets.UTF_8);
        } catch (ZipException e) {
            throw new TensorFormatException(file + ": not a valid .npz (zip) archive: " + e.getMessage(), e);
        }
    }

    private static String keyOf(Path file, ZipEntry entry) throws TensorFormatException {
        String name = entry.getName();
        if (entry.isDirectory() || !name.endsWith(SUFFIX) || name.length() == SUFFIX.length()) {
            throw new TensorFormatException(file + ": entry '" + name + "' is not a .npy array"
                    + (entry.isDirectory() ? " (it is a directory)" : "") + "; an .npz archive holds only <key>.npy entries");
        }
        return name.substring(0, name.length() - SUFFIX.length());
    }

    /**
     * Refuses an archive whose entries together inflate to more than {@link Limits#maxTensorBytes()}, from the sizes
     * its central directory declares, before inflating anything (a zip bomb: a few MB that claims gigabytes). Each
     * entry is then read only up to its declared size ({@link Npy} refuses a header that claims more), so the
     * declared sizes bound what is allocated.
     */
    private static void requireWithinLimit(Path file, ZipFile zip) throws TensorFormatException {
        long limit = Limits.maxTensorBytes();
        long total = 0;
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            ZipEntry e = entries.nextElement();
            long size = e.getSize();
            if (size < 0) {
                throw new TensorFormatException(file + ": entry '" + e.getName() + "' declares no uncompressed size");
            }
            total += size;
            if (total > limit || total < 0) {
                throw new TensorFormatException(file + ": its entries inflate to more than " + Limits.bytes(limit) + " (at entry '"
                        + e.getName() + "', " + Limits.bytes(total) + " so far, from a " + Limits.bytes(fileSize(file))
                        + " file); refusing to load it. Raise -D" + Limits.MAX_TENSOR_BYTES + "=BYTES if the file is genuine");
            }
        }
    }

    private static long fileSize(Path file) {
        try {
            return java.nio.file.Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static NpyArray readEntry(Path file, ZipFile zip, ZipEntry entry) throws IOException {
        String source = file + " (entry '" + entry.getName() + "')";
        CRC32 crc = new CRC32();
        NpyArray array;
        try (java.util.zip.CheckedInputStream checked = new java.util.zip.CheckedInputStream(zip.getInputStream(entry), crc);
             InputStream in = new BufferedInputStream(checked, 1 << 16)) {
            array = Npy.read(in, source, entry.getSize());
            in.transferTo(java.io.OutputStream.nullOutputStream());   // trailing bytes, if any, belong to the checksum too
        } catch (ZipException e) {
            throw new TensorFormatException(source + ": corrupt zip data: " + e.getMessage(), e);
        }
        if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
            throw new TensorFormatException(String.format(java.util.Locale.ROOT,
                    "%s: bad CRC-32 (stored %08x, data %08x): the entry's bytes are damaged", source, entry.getCrc(), crc.getValue()));
        }
        return array;
    }

    /**
     * Writes an .npz archive with stored (uncompressed) entries, like {@code numpy.savez}, atomically.
     *
     * @param file   the target file; its directory must exist
     * @param arrays key to array; written in iteration order as entries {@code key + ".npy"}
     * @throws IllegalArgumentException for empty keys or BF16 arrays (no .npy representation)
     * @throws IOException              on write errors (the target is then unchanged)
     */
    public static void write(Path file, Map<String, ? extends NpyArray> arrays) throws IOException {
        write(file, arrays, false);
    }

    /**
     * Writes an .npz archive atomically.
     *
     * @param file     the target file; its directory must exist
     * @param arrays   key to array; written in iteration order as entries {@code key + ".npy"}
     * @param compress true to deflate the entries (like {@code numpy.savez_compressed}), false to store them
     * @throws IllegalArgumentException for empty keys or BF16 arrays (no .npy representation)
     * @throws IOException              on write errors (the target is then unchanged)
     */
    public static void write(Path file, Map<String, ? extends NpyArray> arrays, boolean compress) throws IOException {
        Objects.requireNonNull(arrays, "arrays");
        for (Map.Entry<String, ? extends NpyArray> e : arrays.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty()) {
                throw new IllegalArgumentException("npz keys must be non-empty");
            }
            Objects.requireNonNull(e.getValue(), () -> "array for key '" + e.getKey() + "' is null");
            e.getValue().dtype().numpyDescr(); // fails early for BF16
        }
        AtomicFiles.write(file, out -> {
            try (ZipOutputStream zos = new ZipOutputStream(out, StandardCharsets.UTF_8)) {
                if (compress) {
                    zos.setLevel(Deflater.DEFAULT_COMPRESSION);
                }
                for (Map.Entry<String, ? extends NpyArray> e : arrays.entrySet()) {
                    byte[] header = Npy.header(e.getValue());
                    byte[] data = e.getValue().rawData();
                    ZipEntry entry = new ZipEntry(e.getKey() + SUFFIX);
                    entry.setTimeLocal(FIXED_TIME);
                    if (compress) {
                        entry.setMethod(ZipEntry.DEFLATED);
                    } else {
                        CRC32 crc = new CRC32();
                        crc.update(header);
                        crc.update(data);
                        long size = (long) header.length + data.length;
                        entry.setMethod(ZipEntry.STORED);
                        entry.setSize(size);
                        entry.setCompressedSize(size);
                        entry.setCrc(crc.getValue());
                    }
                    zos.putNextEntry(entry);
                    zos.write(header);
                    zos.write(data);
                    zos.closeEntry();
                }
                zos.finish();
            }
        });
    }
}
