package dev.nfnets.core.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads and writes the Hugging Face {@code .safetensors} format.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length N; N bytes of UTF-8 JSON mapping each tensor name to
 * {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}} (offsets relative to the first byte after the
 * header), plus an optional {@code "__metadata__"} object of string to string; then the tensor data, little-endian,
 * C order. Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL.
 *
 * <p>{@link #read(Path)} validates the whole header before reading any tensor data: N against the file size, the
 * JSON (well-formed, no duplicate keys, no unknown fields), every dtype, {@code end - begin == product(shape) *
 * itemsize}, offsets inside the data section, and that the tensors cover the data section exactly, without overlaps
 * or gaps (as the reference implementation requires). Errors are {@link TensorFormatException}s naming the file and
 * the tensor.
 *
 * <p>{@link #write} sorts tensors by name, stores them contiguously, pads the header JSON with spaces to a multiple of
 * 8 bytes and replaces the file atomically ({@link AtomicFiles}).
 *
 * <pre>{@code
 * SafetensorsFile st = Safetensors.read(Path.of("weights.safetensors"));
 * INDArray w = st.tensor("head.fc.weight").toINDArray();               // (10, 256) FLOAT
 * Safetensors.write(Path.of("out.safetensors"), Map.of("w", NpyArray.fromINDArray(w)), Map.of("format", "pt"));
 * }</pre>
 */
public final class Safetensors {
    /** The reference implementation's limit on the header size. */
    static final long MAX_HEADER_LENGTH = 100_000_000L;
    private static final String METADATA_KEY = "__metadata__";
    private static final Set<String> TENSOR_FIELDS = Set.of("dtype", "shape", "data_offsets");
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Safetensors() {
    }

    /** One validated header entry. */
    private static final class Info {
        final String name;
        final NpyDType dtype;
        final long[] shape;
        final long begin;
        final long end;

        Info(String name, NpyDType dtype, long[] shape, long begin, long end) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
            this.begin = begin;
            this.end = end;
        }

        String range() {
            return "[" + begin + ", " + end + ")";
        }
    }

    // ------------------------------------------------------------------ reading

    /**
     * Reads a .safetensors file after validating its header.
     *
     * @param file the file
     * @return the tensors (in the order of their data in the file) and the metadata
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws TensorFormatException             when the header or data layout is invalid or the file is truncated
     * @throws IOException                       on read errors
     */
    public static SafetensorsFile read(Path file) throws IOException {
        IoUtil.requireRegularFile(file, ".safetensors");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Limits.maxTensorBytes() + MAX_HEADER_LENGTH + 8) {
                throw new TensorFormatException(file + ": " + Limits.bytes(size) + " is more than the limit of "
                        + Limits.bytes(Limits.maxTensorBytes()) + " for one weight file; raise -D" + Limits.MAX_TENSOR_BYTES
                        + "=BYTES (and the Java heap) if the file is genuine");
            }
            if (size < 8) {
                throw new TensorFormatException(file + ": truncated: the file has " + size
                        + " bytes, too few for the 8-byte header length");
            }
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lb, 0, file);
            long n = lb.getLong(0);
            if (n < 0 || n > size - 8) {
                throw new TensorFormatException(file + ": header length " + Long.toUnsignedString(n)
                        + " exceeds the file size (" + size + " bytes): truncated file or not a safetensors file");
            }
            if (n > MAX_HEADER_LENGTH) {
                throw new TensorFormatException(file + ": header length " + n + " exceeds the limit of "
                        + MAX_HEADER_LENGTH + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8, file);
            hb.flip();
            String json;
            try {
                json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
            } catch (CharacterCodingException e) {
                throw new TensorFormatException(file + ": malformed header: not valid UTF-8", e);
            }
            long dataStart = 8 + n;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Info> infos = parseHeader(json, dataSize, metadata, file);

            Map<String, NpyArray> tensors = new LinkedHashMap<>();
            for (Info info : infos) {
                byte[] data = new byte[(int) (info.end - info.begin)];
                readFully(ch, ByteBuffer.wrap(data), dataStart + info.begin, file);
                if (info.dtype == NpyDType.B1) {
                    for (int i = 0; i < data.length; i++) {
                        if (data[i] != 0) {
                            data[i] = 1;
                        }
                    }
                }
                tensors.put(info.name, NpyArray.wrap(info.dtype, info.shape, data));
            }
            return new SafetensorsFile(tensors, metadata);
        }
    }

    /** Parses and validates the header; returns the tensors sorted by data offset and fills {@code metadata}. */
    private static List<Info> parseHeader(String json, long dataSize, Map<String, String> metadata, Path file)
            throws TensorFormatException {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new TensorFormatException(file + ": malformed header JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TensorFormatException(file + ": malformed header: the JSON must be an object");
        }
        List<Info> infos = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            if (f.getKey().equals(METADATA_KEY)) {
                parseMetadata(f.getValue(), metadata, file);
            } else {
                infos.add(parseTensor(f.getKey(), f.getValue(), dataSize, file));
            }
        }
        infos.sort(Comparator.<Info>comparingLong(i -> i.begin).thenComparingLong(i -> i.end));
        long expected = 0;
        Info previous = null;
        for (Info info : infos) {
            if (info.begin < expected) {
                throw new TensorFormatException(file + ": tensors '" + previous.name + "' " + previous.range()
                        + " and '" + info.name + "' " + info.range() + " have overlapping data_offsets");
            }
            if (info.begin > expected) {
                throw new TensorFormatException(file + ": tensor '" + info.name + "' " + info.range()
                        + " leaves a gap of " + (info.begin - expected) + " unused bytes before it"
                        + (previous == null ? " at the start of the data" : " after tensor '" + previous.name + "'"));
            }
            expected = info.end;
            previous = info;
        }
        if (expected != dataSize) {
            throw new TensorFormatException(file + ": " + (dataSize - expected) + " bytes of data after the last tensor"
                    + (previous == null ? "" : " ('" + previous.name + "')") + " are not covered by any tensor");
        }
        return infos;
    }

    private static void parseMetadata(JsonNode node, Map<String, String> metadata, Path file)
            throws TensorFormatException {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw new TensorFormatException(file + ": malformed header: \"__metadata__\" must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new TensorFormatException(file + ": malformed header: \"__metadata__\" value for '" + e.getKey()
                        + "' must be a string, got " + e.getValue().getNodeType());
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static Info parseTensor(String name, JsonNode node, long dataSize, Path file) throws TensorFormatException {
        String where = file + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new TensorFormatException(where + ": header entry must be an object with dtype, shape, data_offsets");
        }
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String field = names.next();
            if (!TENSOR_FIELDS.contains(field)) {
                throw new TensorFormatException(where + ": unexpected field '" + field + "' (expected dtype, shape, data_offsets)");
            }
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new TensorFormatException(where + ": missing or non-string \"dtype\"");
        }
        NpyDType dtype = NpyDType.fromSafetensorsName(dt.textValue());
        if (dtype == null) {
            throw new TensorFormatException(where + ": unsupported dtype '" + dt.textValue()
                    + "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)");
        }
        long[] shape = longArray(node.get("shape"), -1, where, "shape");
        long[] offsets = longArray(node.get("data_offsets"), 2, where, "data_offsets");
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new TensorFormatException(where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        long count = IoUtil.elementCountOrMinusOne(shape);
        long bytes = IoUtil.byteCountOrMinusOne(count, dtype.itemSize());
        if (bytes < 0) {
            throw new TensorFormatException(where + ": shape " + IoUtil.shapeString(shape) + " is too large");
        }
        if (end - begin != bytes) {
            throw new TensorFormatException(where + ": data_offsets [" + begin + ", " + end + ") span " + (end - begin)
                    + " bytes but shape " + IoUtil.shapeString(shape) + " of " + dtype.safetensorsName() + " needs "
                    + bytes);
        }
        if (end > dataSize) {
            throw new TensorFormatException(where + ": data_offsets [" + begin + ", " + end
                    + ") extend beyond the data section of " + dataSize + " bytes (truncated file?)");
        }
        if (bytes > IoUtil.MAX_ARRAY_BYTES) {
            throw new TensorFormatException(where + ": " + bytes + " bytes is too large to load (limit about 2 GiB per tensor)");
        }
        return new Info(name, dtype, shape, begin, end);
    }

    private static long[] longArray(JsonNode node, int requiredLength, String where, String field)
            throws TensorFormatException {
        if (node == null || !node.isArray() || (requiredLength >= 0 && node.size() != requiredLength)) {
            throw new TensorFormatException(where + ": \"" + field + "\" must be an array of "
                    + (requiredLength >= 0 ? requiredLength + " " : "") + "non-negative integers, got " + node);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new TensorFormatException(where + ": \"" + field + "\" must hold non-negative integers, got " + node);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new TensorFormatException(file + ": truncated: unexpected end of file at byte " + pos);
            }
            pos += r;
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes tensors without metadata; see {@link #write(Path, Map, Map)}.
     *
     * @param file    the target file; its directory must exist
     * @param tensors name to array
     * @throws IOException on write errors (the target is then unchanged)
     */
    public static void write(Path file, Map<String, ? extends NpyArray> tensors) throws IOException {
        write(file, tensors, null);
    }

    /**
     * Writes a {@link SafetensorsFile} (tensors and metadata); see {@link #write(Path, Map, Map)}.
     *
     * @param file    the target file; its directory must exist
     * @param content the tensors and metadata
     * @throws IOException on write errors (the target is then unchanged)
     */
    public static void write(Path file, SafetensorsFile content) throws IOException {
        write(file, content.tensors(), content.metadata());
    }

    /**
     * Writes a .safetensors file atomically: tensors sorted by name and stored contiguously, header padded with spaces
     * to a multiple of 8 bytes, {@code "__metadata__"} written when {@code metadata} is non-empty.
     *
     * @param file     the target file; its directory must exist
     * @param tensors  name to array (any dtype of {@link NpyDType})
     * @param metadata string metadata, or null for none
     * @throws IllegalArgumentException for empty names or the reserved name {@code "__metadata__"}
     * @throws IOException              on write errors (the target is then unchanged)
     */
    public static void write(Path file, Map<String, ? extends NpyArray> tensors, Map<String, String> metadata)
            throws IOException {
        Objects.requireNonNull(tensors, "tensors");
        TreeMap<String, NpyArray> sorted = new TreeMap<>();
        for (Map.Entry<String, ? extends NpyArray> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("invalid safetensors tensor name '" + name + "'");
            }
            sorted.put(name, Objects.requireNonNull(e.getValue(), () -> "tensor '" + name + "' is null"));
        }
        byte[] header = header(sorted, metadata);
        AtomicFiles.write(file, out -> {
            byte[] len = new byte[8];
            ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(len);
            out.write(header);
            for (NpyArray a : sorted.values()) {
                out.write(a.rawData());
            }
        });
    }

    /** The space-padded JSON header for tensors laid out contiguously in the iteration order of {@code sorted}. */
    private static byte[] header(Map<String, NpyArray> sorted, Map<String, String> metadata) throws IOException {
        ObjectNode root = MAPPER.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                meta.put(Objects.requireNonNull(e.getKey(), "metadata key"),
                        Objects.requireNonNull(e.getValue(), () -> "metadata value for '" + e.getKey() + "'"));
            }
        }
        long offset = 0;
        for (Map.Entry<String, NpyArray> e : sorted.entrySet()) {
            NpyArray a = e.getValue();
            ObjectNode t = root.putObject(e.getKey());
            t.put("dtype", a.dtype().safetensorsName());
            ArrayNode shape = t.putArray("shape");
            for (long d : a.shape()) {
                shape.add(d);
            }
            long end = offset + a.byteCount();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = MAPPER.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        System.arraycopy(json, 0, header, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            header[i] = ' ';
        }
        return header;
    }
}
