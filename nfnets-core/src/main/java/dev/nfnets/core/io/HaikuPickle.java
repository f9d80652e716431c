package dev.nfnets.core.io;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads DeepMind's published NFNet weights ({@code F0_haiku.npz} ... {@code F6_haiku.npz}), which despite their name are
 * not zip archives but pickles ({@code dill.dump}) of a Haiku params mapping: module name ({@code NFNet/~/nf_block_3/~/conv1})
 * to parameter name ({@code w}, {@code gain}, {@code bias}, {@code skip_gain}) to numpy array.
 *
 * <p>A pickle is a program for Python's pickle virtual machine; this class never runs one. It interprets the opcodes of
 * protocols 2 to 5 that build plain data (dicts, lists, tuples, strings, bytes, numbers, None, booleans) and gives meaning
 * to exactly these globals, refusing every other one with an error naming it ({@code refused global posix.system}):
 * <ul>
 *   <li>{@code haiku._src.data_structures.FlatMapping} (and the older {@code frozendict}, and {@code to_immutable_dict}):
 *       taken as a plain mapping; Haiku's {@code FlatMapping.__reduce__} is {@code (FlatMapping, (dict,))};</li>
 *   <li>{@code numpy.core.multiarray._reconstruct} with {@code numpy.ndarray}, and {@code numpy.dtype}: numpy's array pickle
 *       (numpy 2 spells the module {@code numpy._core.multiarray});</li>
 *   <li>{@code numpy.core.numeric._frombuffer}: numpy's protocol-5 array pickle with an in-band buffer;</li>
 *   <li>{@code _codecs.encode}: how protocol 2 stores Python 3 bytes (a latin-1 string).</li>
 * </ul>
 * Every length read from the file is checked against the bytes left in it before anything is allocated, so a 2 GB
 * length field in a small file is refused without allocating. Arrays may be little- or big-endian, C or Fortran order;
 * object arrays are refused.
 *
 * <p>{@link #read(Path)} returns the arrays under the same keys the DeepMind {@code .npz} files use,
 * {@code module + "/" + param} ({@code NFNet/~/stem_conv0/w}), so everything that reads DeepMind-named weights reads these.
 *
 * <pre>{@code
 * LinkedHashMap<String, NpyArray> params = HaikuPickle.read(Path.of("F0_haiku.npz"));
 * params.get("NFNet/~/linear/w").shape();     // (3072, 1000)
 * }</pre>
 */
public final class HaikuPickle {
    /** The protocol byte follows this opcode at the start of every protocol 2+ pickle. */
    private static final int PROTO = 0x80;
    /** Haiku params nest two levels (module, parameter); anything much deeper is not such a file. */
    private static final int MAX_DEPTH = 16;

    private HaikuPickle() {
    }

    /**
     * @param head the first bytes of a file (at least 2)
     * @return true when they start a pickle of protocol 2 to 5
     */
    public static boolean looksLikePickle(byte[] head) {
        return head.length >= 2 && (head[0] & 0xff) == PROTO && head[1] >= 2 && head[1] <= 5;
    }

    /**
     * Reads a DeepMind Haiku params pickle.
     *
     * @param file the pickle
     * @return {@code module/param} to array, in file order
     * @throws TensorFormatException when the file is not such a pickle, uses a refused global or opcode, is truncated or
     *                               declares a length beyond its end (the message names the file and what is wrong)
     * @throws IOException           on read errors
     */
    public static LinkedHashMap<String, NpyArray> read(Path file) throws IOException {
        IoUtil.requireRegularFile(file, "pickle");
        long size = Files.size(file);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            Object root = new Machine(in, size, file.toString()).run();
            LinkedHashMap<String, NpyArray> out = new LinkedHashMap<>();
            if (!(root instanceof Map<?, ?> map)) {
                throw new TensorFormatException(file + ": the pickle holds " + describe(root)
                        + ", not a mapping of module names to parameters");
            }
            flatten(file, "", map, out, 0);
            if (out.isEmpty()) {
                throw new TensorFormatException(file + ": the pickle holds no arrays");
            }
            return out;
        }
    }

    private static void flatten(Path file, String prefix, Map<?, ?> map, Map<String, NpyArray> out, int depth)
            throws TensorFormatException {
        if (depth > MAX_DEPTH) {
            throw new TensorFormatException(file + ": mappings nested deeper than " + MAX_DEPTH + " levels under '"
                    + prefix + "'; a Haiku params file has two");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new TensorFormatException(file + ": mapping key " + describe(e.getKey()) + " under '" + prefix
                        + "' is not a string");
            }
            String key = prefix.isEmpty() ? k : prefix + "/" + k;
            Object v = e.getValue();
            if (v instanceof NpyArray a) {
                if (out.put(key, a) != null) {
                    throw new TensorFormatException(file + ": duplicate parameter '" + key + "'");
                }
            } else if (v instanceof Map<?, ?> inner) {
                flatten(file, key, inner, out, depth + 1);
            } else {
                throw new TensorFormatException(file + ": '" + key + "' holds " + describe(v) + ", not an array");
            }
        }
    }

    private static String describe(Object o) {
        if (o == null || o == Machine.NONE) {
            return "None";
        }
        if (o instanceof Global g) {
            return "the global " + g.qualified;
        }
        return "a " + (o instanceof Tuple ? "tuple" : o instanceof List ? "list" : o instanceof Map ? "dict"
                : o instanceof String ? "string" : o instanceof byte[] ? "bytes" : o instanceof Long ? "int"
                : o instanceof Double ? "float" : o instanceof Boolean ? "bool" : o.getClass().getSimpleName());
    }

    // ------------------------------------------------------------------ the accepted globals

    private enum Global {
        FLAT_MAPPING("haiku._src.data_structures.FlatMapping"),
        FROZEN_DICT("haiku._src.data_structures.frozendict"),
        TO_IMMUTABLE_DICT("haiku._src.data_structures.to_immutable_dict"),
        RECONSTRUCT("numpy.core.multiarray._reconstruct"),
        NDARRAY("numpy.ndarray"),
        DTYPE("numpy.dtype"),
        FROMBUFFER("numpy.core.numeric._frombuffer"),
        CODECS_ENCODE("_codecs.encode");

        final String qualified;

        Global(String qualified) {
            this.qualified = qualified;
        }

        static Global of(String module, String name) {
            // numpy 2 moved numpy.core to numpy._core; files written by either are accepted
            String m = module.startsWith("numpy._core.") ? "numpy.core." + module.substring("numpy._core.".length()) : module;
            String q = m + "." + name;
            for (Global g : values()) {
                if (g.qualified.equals(q)) {
                    return g;
                }
            }
            return null;
        }
    }

    /** A Python tuple. */
    private record Tuple(List<Object> items) {
        Object get(int i) {
            return items.get(i);
        }

        int size() {
            return items.size();
        }
    }

    /** A numpy dtype before (and after) its BUILD state set the byte order. */
    private static final class DType {
        final NpyDType type;
        final String code;
        boolean bigEndian;

        DType(NpyDType type, String code) {
            this.type = type;
            this.code = code;
        }
    }

    /** The empty array {@code _reconstruct} makes, waiting for BUILD to give it shape, dtype and data. */
    private static final class ArrayStub {
    }

    // ------------------------------------------------------------------ the interpreter

    private static final class Machine {
        static final Object NONE = new Object() {
            @Override
            public String toString() {
                return "None";
            }
        };

        private final DataInputStream in;
        private final long size;
        private final String source;
        private long pos;
        private final ArrayList<Object> stack = new ArrayList<>();
        private final ArrayList<Integer> marks = new ArrayList<>();
        private final Map<Long, Object> memo = new HashMap<>();

        Machine(InputStream in, long size, String source) {
            this.in = new DataInputStream(in);
            this.size = size;
            this.source = source;
        }

        TensorFormatException error(String what) {
            return new TensorFormatException(source + ": " + what + " (at byte " + pos + ")");
        }

        Object run() throws IOException {
            int first = u1();
            if (first != PROTO) {
                throw error("not a pickle of protocol 2 or later (first byte 0x" + Integer.toHexString(first) + ")");
            }
            int protocol = u1();
            if (protocol < 2 || protocol > 5) {
                throw error("unsupported pickle protocol " + protocol + " (2 to 5 are read)");
            }
            while (true) {
                long at = pos;
                int op = u1();
                switch (op) {
                    case '.': // STOP
                        if (stack.size() != 1 || !marks.isEmpty()) {
                            throw error("malformed pickle: " + stack.size() + " objects left at STOP");
                        }
                        Object result = stack.get(0);
                        if (result instanceof ArrayStub || result instanceof DType) {
                            throw error("malformed pickle: an incomplete numpy object at STOP");
                        }
                        return result;
                    case 0x80: // PROTO (again)
                        u1();
                        break;
                    case 0x95: // FRAME: a length hint only
                        long frame = u8();
                        if (frame < 0 || frame > remaining()) {
                            throw error("frame of " + Long.toUnsignedString(frame) + " bytes but only " + remaining()
                                    + " bytes are left in the file");
                        }
                        break;
                    case '(': // MARK
                        marks.add(stack.size());
                        break;
                    case '0': // POP
                        if (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size()) {
                            marks.remove(marks.size() - 1);
                        } else {
                            pop();
                        }
                        break;
                    case '1': // POP_MARK
                        popMark();
                        break;
                    case '2': // DUP
                        push(peek());
                        break;
                    case 'N':
                        push(NONE);
                        break;
                    case 0x88:
                        push(Boolean.TRUE);
                        break;
                    case 0x89:
                        push(Boolean.FALSE);
                        break;
                    case 'J': // BININT
                        push((long) s4());
                        break;
                    case 'K': // BININT1
                        push((long) u1());
                        break;
                    case 'M': // BININT2
                        push((long) (u1() | (u1() << 8)));
                        break;
                    case 0x8a: // LONG1
                        push(longOf(bytes(u1(), "LONG1")));
                        break;
                    case 0x8b: // LONG4
                        push(longOf(bytes(s4(), "LONG4")));
                        break;
                    case 'G': // BINFLOAT, big-endian
                        push(ByteBuffer.wrap(fixed(8)).getDouble());
                        break;
                    case 'X': // BINUNICODE
                        push(utf8(bytes(u4(), "BINUNICODE")));
                        break;
                    case 0x8c: // SHORT_BINUNICODE
                        push(utf8(bytes(u1(), "SHORT_BINUNICODE")));
                        break;
                    case 0x8d: // BINUNICODE8
                        push(utf8(bytes(u8(), "BINUNICODE8")));
                        break;
                    case 'T': // BINSTRING (Python 2 str)
                        push(new String(bytes(s4(), "BINSTRING"), StandardCharsets.ISO_8859_1));
                        break;
                    case 'U': // SHORT_BINSTRING
                        push(new String(bytes(u1(), "SHORT_BINSTRING"), StandardCharsets.ISO_8859_1));
                        break;
                    case 'B': // BINBYTES
                        push(bytes(u4(), "BINBYTES"));
                        break;
                    case 'C': // SHORT_BINBYTES
                        push(bytes(u1(), "SHORT_BINBYTES"));
                        break;
                    case 0x8e: // BINBYTES8
                        push(bytes(u8(), "BINBYTES8"));
                        break;
                    case 0x96: // BYTEARRAY8
                        push(bytes(u8(), "BYTEARRAY8"));
                        break;
                    case ')':
                        push(new Tuple(List.of()));
                        break;
                    case 0x85:
                        push(tuple(1));
                        break;
                    case 0x86:
                        push(tuple(2));
                        break;
                    case 0x87:
                        push(tuple(3));
                        break;
                    case 't': // TUPLE
                        push(new Tuple(List.copyOf(popMark())));
                        break;
                    case ']':
                        push(new ArrayList<>());
                        break;
                    case 'l': // LIST
                        push(new ArrayList<>(popMark()));
                        break;
                    case '}':
                        push(new LinkedHashMap<>());
                        break;
                    case 'd': // DICT
                        push(dictOf(popMark(), new LinkedHashMap<>()));
                        break;
                    case 'a': { // APPEND
                        Object v = pop();
                        list(peek()).add(v);
                        break;
                    }
                    case 'e': { // APPENDS
                        List<Object> items = popMark();
                        list(peek()).addAll(items);
                        break;
                    }
                    case 's': { // SETITEM
                        Object v = pop();
                        Object k = pop();
                        dictOf(List.of(k, v), dict(peek()));
                        break;
                    }
                    case 'u': { // SETITEMS
                        List<Object> items = popMark();
                        dictOf(items, dict(peek()));
                        break;
                    }
                    case 'q': // BINPUT
                        memo.put((long) u1(), peek());
                        break;
                    case 'r': // LONG_BINPUT
                        memo.put(u4(), peek());
                        break;
                    case 0x94: // MEMOIZE
                        memo.put((long) memo.size(), peek());
                        break;
                    case 'h': // BINGET
                        push(memoGet(u1()));
                        break;
                    case 'j': // LONG_BINGET
                        push(memoGet(u4()));
                        break;
                    case 'c': { // GLOBAL "module\nname\n"
                        String module = line();
                        String name = line();
                        push(global(module, name));
                        break;
                    }
                    case 0x93: { // STACK_GLOBAL
                        Object name = pop();
                        Object module = pop();
                        if (!(module instanceof String m) || !(name instanceof String n)) {
                            throw error("malformed STACK_GLOBAL: module and name must be strings");
                        }
                        push(global(m, n));
                        break;
                    }
                    case 'R': { // REDUCE
                        Object args = pop();
                        Object callable = pop();
                        push(reduce(callable, args));
                        break;
                    }
                    case 'b': { // BUILD
                        Object state = pop();
                        Object target = pop();
                        push(build(target, state));
                        break;
                    }
                    default:
                        throw error(opcodeError(op, at));
                }
            }
        }

        private String opcodeError(int op, long at) {
            String name = switch (op) {
                case 0x81 -> "NEWOBJ";
                case 0x92 -> "NEWOBJ_EX";
                case 'i' -> "INST";
                case 'o' -> "OBJ";
                case 'P', 'Q' -> "persistent id";
                case 0x82, 0x83, 0x84 -> "EXT";
                case 0x97, 0x98 -> "out-of-band buffer";
                case 0x8f, 0x90, 0x91 -> "set";
                case 'I', 'L', 'F', 'S', 'V', 'p', 'g' -> "protocol-0 text opcode";
                default -> "unknown";
            };
            return "unsupported pickle opcode 0x" + Integer.toHexString(op) + " (" + name + ") at byte " + at
                    + "; a DeepMind Haiku params pickle holds only dicts, arrays and plain values";
        }

        // -------------------------------------------------------------- semantics of the accepted globals

        private Object global(String module, String name) throws TensorFormatException {
            Global g = Global.of(module, name);
            if (g == null) {
                throw error("refused global " + module + "." + name + ": a Haiku params pickle may only use Haiku's"
                        + " FlatMapping, numpy's array and dtype reconstruction and _codecs.encode");
            }
            return g;
        }

        private Object reduce(Object callable, Object argsObj) throws TensorFormatException {
            if (!(callable instanceof Global g)) {
                throw error("REDUCE on " + describe(callable) + "; only the accepted globals can be called");
            }
            if (!(argsObj instanceof Tuple args)) {
                throw error("REDUCE of " + g.qualified + " with " + describe(argsObj) + " instead of an argument tuple");
            }
            switch (g) {
                case FLAT_MAPPING, FROZEN_DICT, TO_IMMUTABLE_DICT: {
                    if (args.size() == 0) {
                        return new LinkedHashMap<>();
                    }
                    Object a = args.get(0);
                    if (args.size() == 1 && a instanceof Map<?, ?> m) {
                        return new LinkedHashMap<>(m);
                    }
                    if (args.size() == 1 && (a instanceof List<?> || a instanceof Tuple)) {
                        List<?> pairs = a instanceof Tuple t ? t.items() : (List<?>) a;
                        LinkedHashMap<Object, Object> out = new LinkedHashMap<>();
                        for (Object p : pairs) {
                            if (!(p instanceof Tuple kv) || kv.size() != 2) {
                                throw error(g.qualified + " with an item that is not a (key, value) pair");
                            }
                            out.put(kv.get(0), kv.get(1));
                        }
                        return out;
                    }
                    throw error(g.qualified + " called with " + args.size() + " arguments; expected one mapping");
                }
                case CODECS_ENCODE: {
                    if (args.size() != 2 || !(args.get(0) instanceof String s) || !"latin1".equals(args.get(1))
                            && !"latin-1".equals(args.get(1))) {
                        throw error("_codecs.encode is accepted only as encode(str, 'latin1'), how protocol 2 stores bytes");
                    }
                    byte[] b = new byte[s.length()];
                    for (int i = 0; i < s.length(); i++) {
                        char c = s.charAt(i);
                        if (c > 0xff) {
                            throw error("_codecs.encode: character U+" + Integer.toHexString(c) + " is not latin-1");
                        }
                        b[i] = (byte) c;
                    }
                    return b;
                }
                case DTYPE: {
                    if (args.size() < 1 || !(args.get(0) instanceof String code)) {
                        throw error("numpy.dtype called without a type code");
                    }
                    NpyDType t = NpyDType.fromNumpyTypeCode(code);
                    if (t == null) {
                        throw error("numpy dtype '" + code + "' is not supported (numeric dtypes only)");
                    }
                    return new DType(t, code);
                }
                case RECONSTRUCT: {
                    if (args.size() != 3 || args.get(0) != Global.NDARRAY) {
                        throw error("numpy _reconstruct is accepted only for numpy.ndarray");
                    }
                    return new ArrayStub();
                }
                case FROMBUFFER: {
                    if (args.size() != 4 || !(args.get(0) instanceof byte[] buf) || !(args.get(1) instanceof DType dt)
                            || !(args.get(2) instanceof Tuple shape) || !(args.get(3) instanceof String order)) {
                        throw error("numpy _frombuffer is accepted only as _frombuffer(buffer, dtype, shape, order)");
                    }
                    return array(buf, dt, shape, "F".equals(order));
                }
                default:
                    throw error(g.qualified + " cannot be called");
            }
        }

        private Object build(Object target, Object stateObj) throws TensorFormatException {
            if (!(stateObj instanceof Tuple state)) {
                throw error("BUILD with " + describe(stateObj) + " as state; only numpy arrays and dtypes are built");
            }
            if (target instanceof DType dt) {
                // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
                if (state.size() < 2 || !(state.get(1) instanceof String order)) {
                    throw error("malformed numpy dtype state");
                }
                if (state.size() > 3 && state.get(3) != NONE) {
                    throw error("structured numpy dtypes are not supported");
                }
                dt.bigEndian = order.equals(">");
                return dt;
            }
            if (target instanceof ArrayStub) {
                // (version, shape, dtype, is_fortran, raw) or, from old numpy, (shape, dtype, is_fortran, raw)
                int o = state.size() == 5 ? 1 : 0;
                if (state.size() != 4 + o || !(state.get(o) instanceof Tuple shape) || !(state.get(o + 1) instanceof DType dt)
                        || !(state.get(o + 2) instanceof Boolean fortran)) {
                    throw error("malformed numpy array state");
                }
                if (!(state.get(o + 3) instanceof byte[] raw)) {
                    throw error("numpy array of dtype '" + dt.code + "' without raw data (object arrays are not supported)");
                }
                return array(raw, dt, shape, fortran);
            }
            throw error("BUILD on " + describe(target) + "; only numpy arrays and dtypes are built");
        }

        private NpyArray array(byte[] raw, DType dt, Tuple shapeTuple, boolean fortran) throws TensorFormatException {
            long[] shape = new long[shapeTuple.size()];
            for (int i = 0; i < shape.length; i++) {
                if (!(shapeTuple.get(i) instanceof Long d) || d < 0) {
                    throw error("numpy array shape " + shapeTuple.items() + " is not a tuple of sizes");
                }
                shape[i] = d;
            }
            long n = IoUtil.elementCountOrMinusOne(shape);
            long bytes = IoUtil.byteCountOrMinusOne(n, dt.type.itemSize());
            if (bytes != raw.length) {
                throw error("numpy array of shape " + IoUtil.shapeString(shape) + " and dtype '" + dt.code + "' needs "
                        + (bytes < 0 ? "too many" : Long.toString(bytes)) + " bytes but has " + raw.length);
            }
            if (dt.bigEndian && dt.type.itemSize() > 1) {
                Npy.swapBytes(raw, dt.type.itemSize());
            }
            byte[] data = fortran ? Npy.fortranToC(raw, shape, dt.type.itemSize()) : raw;
            try {
                return NpyArray.wrap(dt.type, shape, data);
            } catch (IllegalArgumentException e) {
                throw error("invalid numpy array: " + e.getMessage());
            }
        }

        // -------------------------------------------------------------- stack and input helpers

        private Tuple tuple(int n) throws TensorFormatException {
            if (stackTop() < n) {
                throw error("malformed pickle: tuple of " + n + " from a shorter stack");
            }
            List<Object> sub = stack.subList(stack.size() - n, stack.size());
            Tuple t = new Tuple(List.copyOf(sub));
            sub.clear();
            return t;
        }

        private int stackTop() {
            return stack.size() - (marks.isEmpty() ? 0 : marks.get(marks.size() - 1));
        }

        private List<Object> popMark() throws TensorFormatException {
            if (marks.isEmpty()) {
                throw error("malformed pickle: no MARK");
            }
            int m = marks.remove(marks.size() - 1);
            List<Object> sub = stack.subList(m, stack.size());
            List<Object> items = new ArrayList<>(sub);
            sub.clear();
            return items;
        }

        private void push(Object o) {
            stack.add(o);
        }

        private Object pop() throws TensorFormatException {
            if (stackTop() <= 0) {
                throw error("malformed pickle: stack underflow");
            }
            return stack.remove(stack.size() - 1);
        }

        private Object peek() throws TensorFormatException {
            if (stackTop() <= 0) {
                throw error("malformed pickle: stack underflow");
            }
            return stack.get(stack.size() - 1);
        }

        private Object memoGet(long key) throws TensorFormatException {
            Object o = memo.get(key);
            if (o == null) {
                throw error("malformed pickle: memo entry " + key + " was never stored");
            }
            return o;
        }

        @SuppressWarnings("unchecked")
        private List<Object> list(Object o) throws TensorFormatException {
            if (!(o instanceof List<?>)) {
                throw error("APPEND to " + describe(o) + ", not a list");
            }
            return (List<Object>) o;
        }

        @SuppressWarnings("unchecked")
        private Map<Object, Object> dict(Object o) throws TensorFormatException {
            if (!(o instanceof Map<?, ?>)) {
                throw error("SETITEM on " + describe(o) + ", not a dict");
            }
            return (Map<Object, Object>) o;
        }

        private Map<Object, Object> dictOf(List<Object> kv, Map<Object, Object> into) throws TensorFormatException {
            if (kv.size() % 2 != 0) {
                throw error("malformed pickle: odd number of dict items");
            }
            for (int i = 0; i < kv.size(); i += 2) {
                Object k = kv.get(i);
                if (!(k instanceof String || k instanceof Long || k instanceof Boolean)) {
                    throw error("dict key " + describe(k) + " is not supported");
                }
                into.put(k, kv.get(i + 1));
            }
            return into;
        }

        private long remaining() {
            return size - pos;
        }

        private int u1() throws IOException {
            int b = in.read();
            if (b < 0) {
                throw error("truncated pickle: the file ends before STOP");
            }
            pos++;
            return b;
        }

        private int s4() throws IOException {
            byte[] b = fixed(4);
            return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }

        private long u4() throws IOException {
            return s4() & 0xffffffffL;
        }

        private long u8() throws IOException {
            return ByteBuffer.wrap(fixed(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }

        private byte[] fixed(int n) throws IOException {
            byte[] b = new byte[n];
            try {
                in.readFully(b);
            } catch (EOFException e) {
                throw error("truncated pickle: the file ends before STOP");
            }
            pos += n;
            return b;
        }

        /** Reads a declared number of bytes, refusing lengths beyond the file's end before allocating. */
        private byte[] bytes(long length, String opcode) throws IOException {
            if (length < 0 || length > remaining()) {
                throw error(opcode + " declares " + Long.toUnsignedString(length) + " bytes but only " + remaining()
                        + " bytes are left in the file");
            }
            if (length > IoUtil.MAX_ARRAY_BYTES) {
                throw error(opcode + " of " + length + " bytes is too large (limit about 2 GiB per array)");
            }
            return fixed((int) length);
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder();
            while (true) {
                int c = u1();
                if (c == '\n') {
                    return sb.toString();
                }
                if (sb.length() >= 256 || c < 0x20 || c > 0x7e) {
                    throw error("malformed GLOBAL name");
                }
                sb.append((char) c);
            }
        }

        private String utf8(byte[] b) throws TensorFormatException {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw error("string is not valid UTF-8");
            }
        }

        private Object longOf(byte[] b) throws TensorFormatException {
            if (b.length == 0) {
                return 0L;
            }
            if (b.length > 8) {
                throw error("integer of " + b.length + " bytes is too large");
            }
            long v = b[b.length - 1]; // sign-extended top byte
            for (int i = b.length - 2; i >= 0; i--) {
                v = (v << 8) | (b[i] & 0xff);
            }
            return v;
        }
    }
}
