package dev.nfnets.train.data;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reader and writer for the IDX format of MNIST / Fashion-MNIST ({@code *-idx1-ubyte}, {@code *-idx3-ubyte}),
 * plain or gzipped.
 *
 * <p>Format: a 4-byte big-endian magic {@code 0x00 0x00 <type> <rank>}, then {@code rank} big-endian
 * 32-bit dimension sizes, then the data in row-major order. Only the unsigned-byte type ({@code 0x08}) is
 * supported, which is what the (Fashion-)MNIST files use. Gzip is detected by its magic bytes
 * ({@code 0x1f 0x8b}), not by the file name.
 *
 * <p>Every error names the file (or resource) it came from.
 */
public final class Idx {
    /** The IDX type code of unsigned bytes. */
    public static final int TYPE_UBYTE = 0x08;

    private static final Logger LOG = LoggerFactory.getLogger(Idx.class);
    private static final int MAX_RANK = 8;

    private Idx() {
    }

    /**
     * One IDX array of unsigned bytes.
     *
     * @param dims the dimension sizes, outermost first (e.g. {@code [n, 28, 28]} for idx3 images)
     * @param data the values, row-major; read them with {@code data[i] & 0xff}
     */
    public record UbyteArray(int[] dims, byte[] data) {
        public UbyteArray {
            long n = 1;
            for (int d : dims) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
                }
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " need " + n
                        + " values, got " + data.length);
            }
        }

        /** The number of items: the size of the first dimension. */
        public int count() {
            return dims.length == 0 ? 1 : dims[0];
        }

        /** The number of values in one item (product of all dimensions but the first). */
        public int itemSize() {
            int s = 1;
            for (int i = 1; i < dims.length; i++) {
                s *= dims[i];
            }
            return s;
        }

        /** Rank (number of dimensions). */
        public int rank() {
            return dims.length;
        }
    }

    /**
     * Images and labels read as a pair and checked against each other.
     *
     * @param images an idx3 array {@code [n, rows, cols]}
     * @param labels the label bytes, length {@code n}
     */
    public record Labelled(UbyteArray images, byte[] labels) {
        public int count() {
            return labels.length;
        }
    }

    /** Reads an IDX ubyte file, plain or gzipped. */
    public static UbyteArray read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads an IDX ubyte array from a stream (plain or gzipped); {@code name} is used in error messages.
     * The stream is not closed.
     */
    public static UbyteArray read(InputStream raw, String name) throws IOException {
        try {
            return readUnchecked(raw, name);
        } catch (ZipException e) {
            throw new IOException(name + ": corrupt gzip data: " + e.getMessage(), e);
        }
    }

    private static UbyteArray readUnchecked(InputStream raw, String name) throws IOException {
        InputStream in = maybeGunzip(raw);
        byte[] head = new byte[4];
        int got = readFully(in, head, 0, 4);
        if (got < 4) {
            throw new IOException(name + ": truncated IDX file (" + got + " bytes, no complete magic number)");
        }
        if (head[0] != 0 || head[1] != 0) {
            throw new IOException(String.format("%s: bad IDX magic number 0x%02x%02x%02x%02x (expected 0x0000TTRR)",
                    name, head[0] & 0xff, head[1] & 0xff, head[2] & 0xff, head[3] & 0xff));
        }
        int type = head[2] & 0xff;
        int rank = head[3] & 0xff;
        if (type != TYPE_UBYTE) {
            throw new IOException(String.format("%s: unsupported IDX data type 0x%02x (only unsigned byte 0x08)", name, type));
        }
        if (rank > MAX_RANK) {
            throw new IOException(name + ": bad IDX magic number: rank " + rank + " is implausible");
        }
        byte[] dimBytes = new byte[4 * rank];
        got = readFully(in, dimBytes, 0, dimBytes.length);
        if (got < dimBytes.length) {
            throw new IOException(name + ": truncated IDX header (" + (4 + got) + " of " + (4 + dimBytes.length) + " bytes)");
        }
        int[] dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = ((dimBytes[4 * i] & 0xff) << 24) | ((dimBytes[4 * i + 1] & 0xff) << 16)
                    | ((dimBytes[4 * i + 2] & 0xff) << 8) | (dimBytes[4 * i + 3] & 0xff);
            if (dims[i] < 0) {
                throw new IOException(name + ": negative IDX dimension " + dims[i]);
            }
            total *= dims[i];
            if (total > Integer.MAX_VALUE - 16) {
                throw new IOException(name + ": IDX array of shape " + Arrays.toString(dims) + " is too large");
            }
        }
        byte[] data = new byte[(int) total];
        got = readFully(in, data, 0, data.length);
        if (got < data.length) {
            throw new IOException(name + ": truncated IDX data: shape " + Arrays.toString(dims) + " needs "
                    + data.length + " bytes, only " + got + " present");
        }
        if (in.read() >= 0) {
            LOG.warn("{}: ignoring trailing bytes after the IDX data of shape {}", name, Arrays.toString(dims));
        }
        return new UbyteArray(dims, data);
    }

    /**
     * Reads an idx3 image file and an idx1 label file and checks that they fit: images of rank 3, labels of
     * rank 1, the same count. Labels must be below {@code numClasses} (pass {@code 0} to skip that check).
     */
    public static Labelled readLabelled(Path images, Path labels, int numClasses) throws IOException {
        UbyteArray img = read(images);
        UbyteArray lab = read(labels);
        return checkPair(img, images.toString(), lab, labels.toString(), numClasses);
    }

    /** {@link #readLabelled(Path, Path, int)} on two already-read arrays, naming them in errors. */
    public static Labelled checkPair(UbyteArray img, String imagesName, UbyteArray lab, String labelsName,
                                     int numClasses) throws IOException {
        if (img.rank() != 3) {
            throw new IOException(imagesName + ": expected an idx3 image file (rank 3), got rank " + img.rank());
        }
        if (lab.rank() != 1) {
            throw new IOException(labelsName + ": expected an idx1 label file (rank 1), got rank " + lab.rank());
        }
        if (img.count() != lab.count()) {
            throw new IOException("count mismatch: " + imagesName + " has " + img.count() + " images but "
                    + labelsName + " has " + lab.count() + " labels");
        }
        if (numClasses > 0) {
            byte[] l = lab.data();
            for (int i = 0; i < l.length; i++) {
                if ((l[i] & 0xff) >= numClasses) {
                    throw new IOException(labelsName + ": label " + (l[i] & 0xff) + " at index " + i
                            + " is out of range [0, " + numClasses + ")");
                }
            }
        }
        return new Labelled(img, lab.data());
    }

    /** Writes an IDX ubyte file; gzipped when {@code gzip} is true. Parent folders are created. */
    public static void write(Path file, UbyteArray array, boolean gzip) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream raw = Files.newOutputStream(file)) {
            write(raw, array, gzip);
        }
    }

    /** Writes an IDX ubyte array to a stream (not closed). */
    public static void write(OutputStream raw, UbyteArray array, boolean gzip) throws IOException {
        OutputStream out = gzip ? new GZIPOutputStream(raw, 1 << 16) : new BufferedOutputStream(raw, 1 << 16);
        int[] dims = array.dims();
        if (dims.length > MAX_RANK) {
            throw new IllegalArgumentException("rank " + dims.length + " is too large for IDX");
        }
        out.write(new byte[] {0, 0, (byte) TYPE_UBYTE, (byte) dims.length});
        for (int d : dims) {
            out.write(new byte[] {(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
        }
        out.write(array.data());
        if (out instanceof GZIPOutputStream g) {
            g.finish();
        }
        out.flush();
    }

    /** Wraps the stream in a gunzip stream when it starts with the gzip magic. */
    private static InputStream maybeGunzip(InputStream raw) throws IOException {
        InputStream in = raw.markSupported() ? raw : new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return in;
    }

    /** Reads up to {@code len} bytes; returns how many were read (less only at end of stream). */
    private static int readFully(InputStream in, byte[] b, int off, int len) throws IOException {
        int total = 0;
        try {
            while (total < len) {
                int n = in.read(b, off + total, len - total);
                if (n < 0) {
                    break;
                }
                total += n;
            }
        } catch (EOFException e) {
            // a gzip stream cut short ends here: report what was read
        }
        return total;
    }
}
