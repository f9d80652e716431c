package dev.nfnets.core.io;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes single NumPy {@code .npy} arrays (format versions 1.0, 2.0 and 3.0).
 *
 * <p>Reading parses the header dict strictly (exactly the keys {@code 'descr'}, {@code 'fortran_order'},
 * {@code 'shape'}), accepts little- and big-endian ({@code '>f4'}) dtypes, Fortran-order data (converted to C order)
 * and 0-d arrays (shape {@code ()}). Object arrays ({@code '|O'}, i.e. pickles), strings, complex, datetime and
 * structured dtypes are refused, as are truncated files. Problems with the content raise a
 * {@link TensorFormatException} whose message names the file and the problem; a missing file raises
 * {@link java.nio.file.NoSuchFileException}.
 *
 * <p>Writing produces what {@code numpy.save} produces: format 1.0 (2.0 when the header does not fit), C order,
 * little-endian, header padded to a multiple of 64 bytes. {@link #write(Path, NpyArray)} replaces the file
 * atomically ({@link AtomicFiles}).
 *
 * <pre>{@code
 * NpyArray labels = Npy.read(Path.of("labels.npy"));     // I4, shape (2,)
 * INDArray x = Npy.read(Path.of("input.npy")).toINDArray();
 * Npy.write(Path.of("out.npy"), NpyArray.fromINDArray(x));
 * }</pre>
 */
public final class Npy {
    private static final Logger LOG = LoggerFactory.getLogger(Npy.class);
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Header lengths beyond this are treated as corruption (numpy's own default limit is 10000). */
    static final int MAX_HEADER_LENGTH = 1 << 20;
    private static final int ALIGN = 64;
    /** numpy pads headers so that the first dimension can grow in place up to this many digits. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    private static final String SUPPORTED = "f2, f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1";

    private Npy() {
    }

    // ------------------------------------------------------------------ reading

    /**
     * Reads a .npy file.
     *
     * @param file the file
     * @return the array, in C order
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws TensorFormatException             when the content is malformed, truncated or of an unsupported dtype
     * @throws IOException                       on read errors
     */
    public static NpyArray read(Path file) throws IOException {
        IoUtil.requireRegularFile(file, ".npy");
        long size = Files.size(file);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return read(in, file.toString(), size);
        }
    }

    /**
     * Reads one .npy array from a stream, consuming exactly the header and the data (the stream is not closed).
     *
     * @param in     the stream, positioned at the magic string
     * @param source a name for error messages, e.g. the file or zip entry name
     * @return the array, in C order
     * @throws TensorFormatException when the content is malformed, truncated or of an unsupported dtype
     * @throws IOException           on read errors
     */
    public static NpyArray read(InputStream in, String source) throws IOException {
        return read(in, source, -1);
    }

    /**
     * Reads one array; {@code totalSize} is the number of bytes the stream holds from here (or -1 if unknown), used to
     * reject truncated data before allocating and to note trailing bytes.
     */
    static NpyArray read(InputStream in, String source, long totalSize) throws IOException {
        Objects.requireNonNull(in, "in");
        byte[] pre = in.readNBytes(8);
        for (int i = 0; i < MAGIC.length; i++) {
            if (i >= pre.length || pre[i] != MAGIC[i]) {
                throw new TensorFormatException(source + ": not a .npy file: bad magic " + hex(pre, 6)
                        + " (expected \\x93NUMPY)");
            }
        }
        if (pre.length < 8) {
            throw new TensorFormatException(source + ": truncated header: the file ends inside the version bytes");
        }
        int major = pre[6] & 0xff;
        int minor = pre[7] & 0xff;
        if (major < 1 || major > 3 || minor != 0) {
            throw new TensorFormatException(source + ": unsupported .npy format version " + major + "." + minor
                    + " (supported: 1.0, 2.0, 3.0)");
        }
        int lenBytes = major == 1 ? 2 : 4;
        byte[] lb = in.readNBytes(lenBytes);
        if (lb.length < lenBytes) {
            throw new TensorFormatException(source + ": truncated header: the file ends inside the header length");
        }
        long headerLength = 0;
        for (int i = lenBytes - 1; i >= 0; i--) {
            headerLength = (headerLength << 8) | (lb[i] & 0xff);
        }
        long headerEnd = 8L + lenBytes + headerLength;
        if (headerLength > MAX_HEADER_LENGTH) {
            throw new TensorFormatException(source + ": malformed header: header length " + headerLength
                    + " is implausibly large (limit " + MAX_HEADER_LENGTH + ")");
        }
        if (totalSize >= 0 && headerEnd > totalSize) {
            throw new TensorFormatException(source + ": truncated header: the header length says " + headerLength
                    + " bytes but only " + Math.max(0, totalSize - 8 - lenBytes) + " follow");
        }
        byte[] hb = in.readNBytes((int) headerLength);
        if (hb.length < headerLength) {
            throw new TensorFormatException(source + ": truncated header: the header length says " + headerLength
                    + " bytes but only " + hb.length + " follow");
        }
        String headerText = decodeHeader(hb, major, source);
        Header h = parseHeader(headerText, source);

        long count = IoUtil.elementCountOrMinusOne(h.shape);
        long bytes = IoUtil.byteCountOrMinusOne(count, h.dtype.itemSize());
        if (bytes < 0 || bytes > IoUtil.MAX_ARRAY_BYTES) {
            throw new TensorFormatException(source + ": shape " + IoUtil.shapeString(h.shape) + " of '" + h.descr
                    + "' is too large to load (limit about 2 GiB per array)");
        }
        byte[] data;
        if (totalSize >= 0) {
            long available = totalSize - headerEnd;
            if (available < bytes) {
                throw truncated(source, h, bytes, available);
            }
            data = new byte[(int) bytes];
            int got = in.readNBytes(data, 0, data.length);
            if (got < bytes) {
                throw truncated(source, h, bytes, got);
            }
            if (available > bytes) {
                LOG.warn("{}: {} unexpected bytes after the array data were ignored", source, available - bytes);
            }
        } else {
            data = in.readNBytes((int) bytes);
            if (data.length < bytes) {
                throw truncated(source, h, bytes, data.length);
            }
        }
        int item = h.dtype.itemSize();
        if (h.bigEndian && item > 1) {
            swapBytes(data, item);
        }
        if (h.fortranOrder) {
            data = fortranToC(data, h.shape, item);
        }
        if (h.dtype == NpyDType.B1) {
            for (int i = 0; i < data.length; i++) {
                if (data[i] != 0) {
                    data[i] = 1;
                }
            }
        }
        return NpyArray.wrap(h.dtype, h.shape, data);
    }

    private static TensorFormatException truncated(String source, Header h, long expected, long available) {
        return new TensorFormatException(source + ": truncated data: the header declares shape "
                + IoUtil.shapeString(h.shape) + " of '" + h.descr + "' (" + expected + " bytes) but only "
                + Math.max(0, available) + " bytes follow the header");
    }

    private static String decodeHeader(byte[] hb, int major, String source) throws TensorFormatException {
        if (major < 3) {
            return new String(hb, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(hb)).toString();
        } catch (CharacterCodingException e) {
            throw new TensorFormatException(source + ": malformed header: not valid UTF-8 (format 3.0)", e);
        }
    }

    // ------------------------------------------------------------------ header parsing

    /** A parsed .npy header. */
    static final class Header {
        final String descr;
        final NpyDType dtype;
        final boolean bigEndian;
        final boolean fortranOrder;
        final long[] shape;

        Header(String descr, NpyDType dtype, boolean bigEndian, boolean fortranOrder, long[] shape) {
            this.descr = descr;
            this.dtype = dtype;
            this.bigEndian = bigEndian;
            this.fortranOrder = fortranOrder;
            this.shape = shape;
        }
    }

    /** Marks a tuple value of the header dict. */
    private static final class Tuple {
        final List<Long> items;

        Tuple(List<Long> items) {
            this.items = items;
        }
    }

    /** Marks a list value (numpy's structured dtype descr), which is not supported. */
    private static final Object LIST = new Object();

    /** Parses the Python-literal header dict, e.g. {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. */
    static Header parseHeader(String text, String source) throws TensorFormatException {
        Map<String, Object> dict = new HeaderParser(text, source).parseDict();
        for (String key : dict.keySet()) {
            if (!key.equals("descr") && !key.equals("fortran_order") && !key.equals("shape")) {
                throw new TensorFormatException(source + ": malformed header: unexpected key '" + key
                        + "' (expected exactly 'descr', 'fortran_order', 'shape'): " + text.strip());
            }
        }
        for (String key : new String[] {"descr", "fortran_order", "shape"}) {
            if (!dict.containsKey(key)) {
                throw new TensorFormatException(source + ": malformed header: missing key '" + key + "': " + text.strip());
            }
        }
        Object descrValue = dict.get("descr");
        if (descrValue == LIST) {
            throw new TensorFormatException(source + ": unsupported dtype: structured (record) dtypes are not supported;"
                    + " supported: " + SUPPORTED);
        }
        if (!(descrValue instanceof String)) {
            throw new TensorFormatException(source + ": malformed header: 'descr' must be a string: " + text.strip());
        }
        String descr = (String) descrValue;
        Object fo = dict.get("fortran_order");
        if (!(fo instanceof Boolean)) {
            throw new TensorFormatException(source + ": malformed header: 'fortran_order' must be True or False: "
                    + text.strip());
        }
        Object shapeValue = dict.get("shape");
        if (!(shapeValue instanceof Tuple)) {
            throw new TensorFormatException(source + ": malformed header: 'shape' must be a tuple of integers such as"
                    + " (3,) or (): " + text.strip());
        }
        List<Long> items = ((Tuple) shapeValue).items;
        long[] shape = new long[items.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = items.get(i);
        }
        if (descr.isEmpty()) {
            throw new TensorFormatException(source + ": malformed header: empty 'descr'");
        }
        char order = descr.charAt(0);
        String code = (order == '<' || order == '>' || order == '|' || order == '=') ? descr.substring(1) : descr;
        NpyDType dtype = NpyDType.fromNumpyTypeCode(code);
        if (dtype == null) {
            throw new TensorFormatException(source + ": unsupported dtype '" + descr + "'" + dtypeHint(code)
                    + "; supported: " + SUPPORTED);
        }
        return new Header(descr, dtype, order == '>', (Boolean) fo, shape);
    }

    private static String dtypeHint(String code) {
        if (code.isEmpty()) {
            return "";
        }
        switch (code.charAt(0)) {
            case 'O':
                return " (object arrays hold pickled Python objects, which are never loaded)";
            case 'U':
            case 'S':
            case 'a':
                return " (string arrays are not supported)";
            case 'c':
                return " (complex numbers are not supported)";
            case 'M':
            case 'm':
                return " (datetime/timedelta arrays are not supported)";
            case 'V':
                return " (raw void/record data is not supported)";
            default:
                return "";
        }
    }

    /** Recursive-descent parser for the small Python-literal subset used by .npy headers. */
    private static final class HeaderParser {
        private final String s;
        private final String source;
        private int pos;

        HeaderParser(String s, String source) {
            this.s = s;
            this.source = source;
        }

        Map<String, Object> parseDict() throws TensorFormatException {
            skipSpace();
            expect('{');
            Map<String, Object> dict = new LinkedHashMap<>();
            skipSpace();
            if (peek() == '}') {
                pos++;
            } else {
                while (true) {
                    skipSpace();
                    if (peek() == '}') { // trailing comma, as numpy writes
                        pos++;
                        break;
                    }
                    String key = parseString();
                    skipSpace();
                    expect(':');
                    skipSpace();
                    Object value = parseValue();
                    if (dict.containsKey(key)) {
                        throw error("duplicate key '" + key + "'");
                    }
                    dict.put(key, value);
                    skipSpace();
                    char c = next();
                    if (c == '}') {
                        break;
                    }
                    if (c != ',') {
                        pos--;
                        throw error("expected ',' or '}'");
                    }
                }
            }
            skipSpace();
            if (pos != s.length()) {
                throw error("unexpected text after the header dict");
            }
            return dict;
        }

        private Object parseValue() throws TensorFormatException {
            char c = peek();
            if (c == '\'' || c == '"') {
                return parseString();
            }
            if (c == '(') {
                return parseTuple();
            }
            if (c == '[') {
                skipBrackets();
                return LIST;
            }
            if (s.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            if (c == '-' || isDigit(c)) {
                return parseInt();
            }
            throw error("unexpected value");
        }

        private Tuple parseTuple() throws TensorFormatException {
            expect('(');
            List<Long> items = new ArrayList<>();
            boolean trailingComma = false;
            skipSpace();
            if (peek() == ')') {
                pos++;
                return new Tuple(items);
            }
            while (true) {
                skipSpace();
                if (peek() == ')' && !items.isEmpty()) {
                    pos++;
                    break;
                }
                if (peek() != '-' && !isDigit(peek())) {
                    throw error("expected an integer in the shape tuple");
                }
                long v = parseInt();
                if (v < 0) {
                    throw error("negative dimension " + v + " in the shape");
                }
                items.add(v);
                skipSpace();
                char c = next();
                if (c == ',') {
                    trailingComma = true;
                    continue;
                }
                trailingComma = false;
                if (c == ')') {
                    break;
                }
                pos--;
                throw error("expected ',' or ')' in the shape tuple");
            }
            if (items.size() == 1 && !trailingComma) {
                // "(3)" is the integer 3 in Python, not a tuple
                return null;
            }
            return new Tuple(items);
        }

        private long parseInt() throws TensorFormatException {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            while (pos < s.length() && isDigit(s.charAt(pos))) {
                pos++;
            }
            String digits = s.substring(start, pos);
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++; // Python 2 long literal, as written by old numpy versions
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                pos = start;
                throw error("invalid integer '" + digits + "'");
            }
        }

        private String parseString() throws TensorFormatException {
            char quote = peek();
            if (quote != '\'' && quote != '"') {
                throw error("expected a quoted string");
            }
            pos++;
            int start = pos;
            while (pos < s.length() && s.charAt(pos) != quote) {
                if (s.charAt(pos) == '\\') {
                    throw error("escape sequences are not supported in header strings");
                }
                pos++;
            }
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            return s.substring(start, pos++);
        }

        private void skipBrackets() throws TensorFormatException {
            int depth = 0;
            while (pos < s.length()) {
                char c = s.charAt(pos++);
                if (c == '\'' || c == '"') {
                    int end = s.indexOf(c, pos);
                    if (end < 0) {
                        throw error("unterminated string");
                    }
                    pos = end + 1;
                } else if (c == '[' || c == '(') {
                    depth++;
                } else if (c == ']' || c == ')') {
                    if (--depth == 0) {
                        return;
                    }
                }
            }
            throw error("unterminated list");
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private void skipSpace() {
            while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\n' || s.charAt(pos) == '\t'
                    || s.charAt(pos) == '\r')) {
                pos++;
            }
        }

        private char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        private char next() throws TensorFormatException {
            if (pos >= s.length()) {
                throw error("unexpected end of header");
            }
            return s.charAt(pos++);
        }

        private void expect(char c) throws TensorFormatException {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private TensorFormatException error(String what) {
            String shown = s.strip();
            if (shown.length() > 200) {
                shown = shown.substring(0, 200) + "...";
            }
            return new TensorFormatException(source + ": malformed header: " + what + " at character " + pos + " of "
                    + shown);
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes {@code array} as a .npy file, atomically replacing {@code file}.
     *
     * @param file  the target file; its directory must exist
     * @param array the array
     * @throws IllegalArgumentException for {@link NpyDType#BF16}, which numpy cannot represent
     * @throws IOException              on write errors (the target is then unchanged)
     */
    public static void write(Path file, NpyArray array) throws IOException {
        byte[] header = header(array);
        AtomicFiles.write(file, out -> {
            out.write(header);
            out.write(array.rawData());
        });
    }

    /**
     * Writes {@code array} in .npy format to a stream (not closed).
     *
     * @param out   the stream
     * @param array the array
     * @throws IllegalArgumentException for {@link NpyDType#BF16}
     * @throws IOException              on write errors
     */
    public static void write(OutputStream out, NpyArray array) throws IOException {
        out.write(header(array));
        out.write(array.rawData());
    }

    /**
     * @param array the array
     * @return the complete .npy file content
     * @throws IllegalArgumentException for {@link NpyDType#BF16}
     */
    public static byte[] toBytes(NpyArray array) {
        byte[] header = header(array);
        ByteArrayOutputStream bos = new ByteArrayOutputStream(header.length + array.byteCount());
        bos.writeBytes(header);
        bos.writeBytes(array.rawData());
        return bos.toByteArray();
    }

    /** Builds the magic, version, length and padded header dict exactly as numpy 1.24 does. */
    static byte[] header(NpyArray array) {
        Objects.requireNonNull(array, "array");
        long[] shape = array.shape();
        StringBuilder dict = new StringBuilder()
                .append("{'descr': '").append(array.dtype().numpyDescr())
                .append("', 'fortran_order': False, 'shape': ").append(IoUtil.shapeString(shape)).append(", }");
        if (shape.length > 0) {
            dict.append(" ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length())));
        }
        int textLength = dict.length() + 1; // + '\n'
        int major = 1;
        int prefix = 10;
        int pad = ALIGN - (prefix + textLength) % ALIGN;
        if (textLength + pad > 0xffff) {
            major = 2;
            prefix = 12;
            pad = ALIGN - (prefix + textLength) % ALIGN;
        }
        int headerLength = textLength + pad;
        ByteBuffer bb = ByteBuffer.allocate(prefix + headerLength).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            bb.putShort((short) headerLength);
        } else {
            bb.putInt(headerLength);
        }
        bb.put(dict.toString().getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < pad; i++) {
            bb.put((byte) ' ');
        }
        bb.put((byte) '\n');
        return bb.array();
    }

    // ------------------------------------------------------------------ byte helpers

    /** Reverses the bytes of every element in place. */
    static void swapBytes(byte[] data, int itemSize) {
        for (int off = 0; off + itemSize <= data.length; off += itemSize) {
            for (int i = 0, j = itemSize - 1; i < j; i++, j--) {
                byte t = data[off + i];
                data[off + i] = data[off + j];
                data[off + j] = t;
            }
        }
    }

    /** Reorders Fortran-order (column-major) element bytes into C order. */
    static byte[] fortranToC(byte[] src, long[] shape, int itemSize) {
        int rank = shape.length;
        int n = src.length / itemSize;
        int nonTrivial = 0;
        for (long d : shape) {
            if (d > 1) {
                nonTrivial++;
            }
        }
        if (n <= 1 || nonTrivial <= 1) {
            return src; // both orders coincide
        }
        long[] fStride = new long[rank];
        long s = 1;
        for (int k = 0; k < rank; k++) {
            fStride[k] = s;
            s *= shape[k];
        }
        long[] idx = new long[rank];
        byte[] dst = new byte[src.length];
        long off = 0;
        for (int i = 0; i < n; i++) {
            System.arraycopy(src, (int) (off * itemSize), dst, i * itemSize, itemSize);
            for (int k = rank - 1; k >= 0; k--) {
                idx[k]++;
                off += fStride[k];
                if (idx[k] < shape[k]) {
                    break;
                }
                off -= fStride[k] * shape[k];
                idx[k] = 0;
            }
        }
        return dst;
    }

    private static String hex(byte[] b, int max) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < Math.min(b.length, max); i++) {
            int v = b[i] & 0xff;
            if (v >= 0x20 && v < 0x7f && v != '\'' && v != '\\') {
                sb.append((char) v);
            } else {
                sb.append(String.format("\\x%02x", v));
            }
        }
        return sb.append('\'').toString();
    }
}
