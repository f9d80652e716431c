package dev.nfnets.layers;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serial;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Every behaviour switch of the library in one immutable, serialisable value: which implementation runs each
 * computation (the kernels), the size thresholds between them, and the memory policy of a training step.
 * A model holds one ({@code NFNet(config, seed, options)}, {@link Layer#useOptions}); its layers, optimizers
 * and step scopes read their choices from it, never from system properties.
 *
 * <p>Built in one place, in this order: the defaults below, then the environment variables, then the
 * {@code nfnets.*} system properties (both read once, by {@link #defaults()}), then the API
 * ({@link #builder()}, {@link #toBuilder()}). Every value has one parsing rule: booleans are {@code true},
 * {@code false}, {@code yes}, {@code no}, {@code on}, {@code off}, {@code 1} or {@code 0} (any case); numbers are
 * decimal; anything else fails with a message naming the key and the value. An unknown {@code nfnets.*} system
 * property is logged as a warning (a misspelt switch would otherwise be ignored silently).
 *
 * <table>
 * <caption>Keys (system property; environment variable; default)</caption>
 * <tr><td>{@code nfnets.kernels} ({@code NFNETS_KERNELS}, {@code fast})</td><td>{@code fast}: the tuned
 *     implementations below, each where its own switch and threshold allow; {@code reference}: the plain ND4J
 *     implementation of every kernel (ignores the other kernel switches)</td></tr>
 * <tr><td>{@code nfnets.onednn} ({@code NFNETS_ONEDNN}, true)</td><td>the direct oneDNN convolution and GELU
 *     kernels (when the natives load and ND4J's platform helpers are on)</td></tr>
 * <tr><td>{@code nfnets.onednnConv} ({@code NFNETS_ONEDNN_CONV}, true)</td><td>the direct oneDNN spatial
 *     convolution</td></tr>
 * <tr><td>{@code nfnets.onednnPointwise} ({@code NFNETS_ONEDNN_POINTWISE}, true)</td><td>1x1 convolutions
 *     through the direct oneDNN path too (its {@code jit_1x1} kernels) instead of GEMMs on NCHW planes</td></tr>
 * <tr><td>{@code nfnets.onednnConvMaxPlane} ({@code NFNETS_ONEDNN_CONV_MAX_PLANE}, 2147483647)</td><td>input
 *     planes (pixels) above this keep ND4J's convolution</td></tr>
 * <tr><td>{@code nfnets.onednnEltwise} ({@code NFNETS_ONEDNN_ELTWISE}, true)</td><td>GELU through oneDNN's
 *     eltwise kernels</td></tr>
 * <tr><td>{@code nfnets.onednnGemm} ({@code NFNETS_ONEDNN_GEMM}, true)</td><td>the matrix products of dense
 *     layers (squeeze-excite, the classifier) on FLOAT arrays through oneDNN's {@code dnnl_sgemm} instead of ND4J's
 *     {@code gemm}</td></tr>
 * <tr><td>{@code nfnets.onednnEltwiseMin} ({@code NFNETS_ONEDNN_ELTWISE_MIN}, 16384)</td><td>smallest FLOAT
 *     activation (elements) that takes the oneDNN GELU</td></tr>
 * <tr><td>{@code nfnets.floatKernels} ({@code NFNETS_FLOAT_KERNELS}, true)</td><td>multi-threaded Java loops
 *     over large dense FLOAT arrays (weight standardisation, AGC, SGD, EMA, GELU, bias)</td></tr>
 * <tr><td>{@code nfnets.hostMaxElements} ({@code NFNETS_HOST_MAX_ELEMENTS}, 65536)</td><td>largest array
 *     computed in double-precision host loops (0 turns them off)</td></tr>
 * <tr><td>{@code nfnets.pointwiseGemm} ({@code NFNETS_POINTWISE_GEMM}, true)</td><td>1x1 convolutions as
 *     GEMMs</td></tr>
 * <tr><td>{@code nfnets.pointwiseMinMacs} ({@code NFNETS_POINTWISE_MIN_MACS}, 4000000)</td><td>smallest
 *     per-example multiply-accumulates of a 1x1 convolution that takes GEMMs</td></tr>
 * <tr><td>{@code nfnets.pointwiseBatchedMaxPlane} ({@code NFNETS_POINTWISE_BATCHED_MAX_PLANE}, 256)</td>
 *     <td>largest plane (pixels) on which a 1x1 convolution runs as one GEMM over the whole batch</td></tr>
 * <tr><td>{@code nfnets.activationGates} ({@code NFNETS_ACTIVATION_GATES}, {@code auto})</td><td>whether
 *     training keeps GELU's gate for the backward pass: {@code true}, {@code false}, or {@code auto} (kept for
 *     models below {@code nfnets.activationGatesMaxMacs})</td></tr>
 * <tr><td>{@code nfnets.activationGatesMaxMacs} ({@code NFNETS_ACTIVATION_GATES_MAX_MACS}, 100000000)</td>
 *     <td>{@code auto} keeps the gates for models with fewer multiply-accumulates per image at the training
 *     size</td></tr>
 * <tr><td>{@code nfnets.wsRecompute} ({@code NFNETS_WS_RECOMPUTE}, true)</td><td>do not keep the standardised
 *     kernel in step memory: keep it in the weight's gradient buffer while that holds no gradient, else recompute
 *     it in the backward pass; {@code false} keeps it in step memory</td></tr>
 * <tr><td>{@code nfnets.recomputeActivations} ({@code NFNETS_RECOMPUTE_ACTIVATIONS}, true)</td><td>training
 *     writes the output of each activation that feeds a convolution into one buffer shared by all blocks and
 *     recomputes it in the backward pass (bit for bit), instead of keeping it for the whole step</td></tr>
 * <tr><td>{@code nfnets.channelBlocks} ({@code NFNETS_CHANNEL_BLOCKS}, true)</td><td>the activations between an
 *     NFNet block's convolutions (and the stem's) stay in oneDNN's 16-channel blocked layout (FLOAT, channels a multiple of 16,
 *     oneDNN convolutions), so those convolutions reorder nothing in or out; the same bits either way</td></tr>
 * <tr><td>{@code nfnets.foldActivationGains} ({@code NFNETS_FOLD_ACTIVATION_GAINS}, true)</td><td>with the
 *     {@code fast} kernels, an activation that feeds only weight-standardised convolutions (in an NFNet block, and
 *     between the stem's convolutions) leaves its constant gain to them, which standardise their kernel with
 *     {@code gain * gamma} instead of {@code gain}: one pass over the activation fewer forward and backward, the
 *     same function up to float rounding; {@code false} (and the {@code reference} kernels) multiply the
 *     activation itself</td></tr>
 * <tr><td>{@code nfnets.nestedScopes} ({@code NFNETS_NESTED_SCOPES}, true)</td><td>per-block child memory
 *     scopes inside a step scope</td></tr>
 * <tr><td>{@code nfnets.scopeOverallocation} ({@code NFNETS_SCOPE_OVERALLOCATION}, 0)</td><td>extra room
 *     (a fraction) a step scope reserves over its first step</td></tr>
 * <tr><td>{@code nfnets.maxTensorBytes} ({@code NFNETS_MAX_TENSOR_BYTES}, 0 = 3/4 of the Java heap)</td><td>input
 *     bound: total (inflated) bytes of the tensors of one weight, checkpoint or .npz file</td></tr>
 * <tr><td>{@code nfnets.maxImagePixels} ({@code NFNETS_MAX_IMAGE_PIXELS}, 100000000)</td><td>input bound: width x
 *     height of one image, checked from its header before decoding</td></tr>
 * <tr><td>{@code nfnets.maxModelBytes} ({@code NFNETS_MAX_MODEL_BYTES}, 0 = JavaCPP's native memory limit, else
 *     16 GiB)</td><td>input bound: estimated parameter memory of a model built from a config read from a
 *     file</td></tr>
 * <tr><td>{@code nfnets.cache} ({@code NFNETS_CACHE}, empty = {@code $XDG_CACHE_HOME/nfnets}, else
 *     {@code ~/.cache/nfnets})</td><td>the folder for downloaded published weights</td></tr>
 * </table>
 *
 * <pre>{@code
 * NFNetsOptions opts = NFNetsOptions.defaults().toBuilder().kernels(NFNetsOptions.Kernels.REFERENCE).build();
 * NFNet model = new NFNet(NFNetConfig.f0(), 0, opts);
 * Properties p = opts.toProperties();              // to another process (a Spark executor) ...
 * NFNetsOptions same = NFNetsOptions.fromProperties(p);   // ... and back
 * }</pre>
 */
public final class NFNetsOptions implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(NFNetsOptions.class);
    /** The prefix of every system property key. */
    public static final String PREFIX = "nfnets.";

    /** Which family of implementations runs the kernels. */
    public enum Kernels {
        /** The tuned implementations (oneDNN, float loops, host loops, GEMMs) where their switches allow. */
        FAST,
        /** The plain ND4J implementation of every kernel: the reading of the math, and the numerical baseline. */
        REFERENCE
    }

    /** Whether training keeps activation gates for the backward pass. */
    public enum Gates { AUTO, KEEP, RECOMPUTE }

    private final Kernels kernels;
    private final boolean oneDnn;
    private final boolean oneDnnConv;
    private final int oneDnnConvMaxPlane;
    private final boolean oneDnnPointwise;
    private final boolean oneDnnEltwise;
    private final boolean oneDnnGemm;
    private final long oneDnnEltwiseMin;
    private final boolean floatKernels;
    private final long hostMaxElements;
    private final boolean pointwiseGemm;
    private final long pointwiseMinMacs;
    private final int pointwiseBatchedMaxPlane;
    private final Gates activationGates;
    private final long activationGatesMaxMacs;
    private final boolean wsRecompute;
    private final boolean recomputeActivations;
    private final boolean nestedScopes;
    private final boolean channelBlocks;
    private final boolean foldActivationGains;
    private final double scopeOverallocation;
    private final long maxTensorBytes;
    private final long maxImagePixels;
    private final long maxModelBytes;
    private final String cache;

    private NFNetsOptions(Builder b) {
        kernels = Objects.requireNonNull(b.kernels, "kernels");
        oneDnn = b.oneDnn;
        oneDnnConv = b.oneDnnConv;
        oneDnnConvMaxPlane = nonNegative("onednnConvMaxPlane", b.oneDnnConvMaxPlane);
        oneDnnPointwise = b.oneDnnPointwise;
        oneDnnEltwise = b.oneDnnEltwise;
        oneDnnGemm = b.oneDnnGemm;
        oneDnnEltwiseMin = nonNegative("onednnEltwiseMin", b.oneDnnEltwiseMin);
        floatKernels = b.floatKernels;
        hostMaxElements = nonNegative("hostMaxElements", b.hostMaxElements);
        pointwiseGemm = b.pointwiseGemm;
        pointwiseMinMacs = nonNegative("pointwiseMinMacs", b.pointwiseMinMacs);
        pointwiseBatchedMaxPlane = nonNegative("pointwiseBatchedMaxPlane", b.pointwiseBatchedMaxPlane);
        activationGates = Objects.requireNonNull(b.activationGates, "activationGates");
        activationGatesMaxMacs = nonNegative("activationGatesMaxMacs", b.activationGatesMaxMacs);
        wsRecompute = b.wsRecompute;
        recomputeActivations = b.recomputeActivations;
        nestedScopes = b.nestedScopes;
        channelBlocks = b.channelBlocks;
        foldActivationGains = b.foldActivationGains;
        if (!(b.scopeOverallocation >= 0 && b.scopeOverallocation <= 10)) {
            throw new IllegalArgumentException("option nfnets.scopeOverallocation must be in [0, 10], got " + b.scopeOverallocation);
        }
        scopeOverallocation = b.scopeOverallocation;
        maxTensorBytes = nonNegative("maxTensorBytes", b.maxTensorBytes);
        maxImagePixels = nonNegative("maxImagePixels", b.maxImagePixels);
        maxModelBytes = nonNegative("maxModelBytes", b.maxModelBytes);
        cache = b.cache == null ? "" : b.cache.trim();
    }

    private static long nonNegative(String key, long v) {
        if (v < 0) {
            throw new IllegalArgumentException("option " + PREFIX + key + " must be >= 0, got " + v);
        }
        return v;
    }

    private static int nonNegative(String key, int v) {
        return (int) nonNegative(key, (long) v);
    }

    // ---------------------------------------------------------------- the choices

    /** Bound on the inflated tensor bytes of one file ({@code nfnets.maxTensorBytes}); 0 = automatic. */
    public long maxTensorBytes() {
        return maxTensorBytes;
    }

    /** Bound on the pixels of one image ({@code nfnets.maxImagePixels}). */
    public long maxImagePixels() {
        return maxImagePixels;
    }

    /** Bound on a model's estimated parameter memory ({@code nfnets.maxModelBytes}); 0 = automatic. */
    public long maxModelBytes() {
        return maxModelBytes;
    }

    /** The folder for downloaded weights ({@code nfnets.cache}); empty = the platform default. */
    public String cache() {
        return cache;
    }

    /** Which family of kernel implementations runs ({@code nfnets.kernels}). */
    public Kernels kernels() {
        return kernels;
    }

    private boolean fast() {
        return kernels == Kernels.FAST;
    }

    /** The direct oneDNN spatial convolution is allowed (it also needs the natives and ND4J's helpers). */
    public boolean oneDnnConv() {
        return fast() && oneDnn && oneDnnConv;
    }

    /**
     * 1x1 convolutions take the direct oneDNN path as well (when {@link #oneDnnConv()} is allowed and the natives
     * load), ahead of the GEMMs of {@link #pointwiseGemm()}.
     */
    public boolean oneDnnPointwise() {
        return oneDnnConv() && oneDnnPointwise;
    }

    /** Input planes above this many pixels keep ND4J's convolution. */
    public int oneDnnConvMaxPlane() {
        return oneDnnConvMaxPlane;
    }

    /** The direct oneDNN GELU is allowed (it also needs the natives and ND4J's helpers). */
    public boolean oneDnnEltwise() {
        return fast() && oneDnn && oneDnnEltwise;
    }

    /** Dense layers' FLOAT matrix products may run through oneDNN's sgemm (it also needs the natives). */
    public boolean oneDnnGemm() {
        return fast() && oneDnn && oneDnnGemm;
    }

    /** Smallest FLOAT activation (elements) that takes the oneDNN GELU. */
    public long oneDnnEltwiseMin() {
        return oneDnnEltwiseMin;
    }

    /** The multi-threaded float loops are allowed. */
    public boolean floatKernels() {
        return fast() && floatKernels;
    }

    /** Largest array computed in host loops; 0 when they are off (always 0 with reference kernels). */
    public long hostMaxElements() {
        return fast() ? hostMaxElements : 0;
    }

    /** 1x1 convolutions may run as GEMMs. */
    public boolean pointwiseGemm() {
        return fast() && pointwiseGemm;
    }

    /** Smallest per-example multiply-accumulates of a 1x1 convolution that takes GEMMs. */
    public long pointwiseMinMacs() {
        return pointwiseMinMacs;
    }

    /** Largest plane (pixels) on which a 1x1 convolution runs as one GEMM over the whole batch. */
    public int pointwiseBatchedMaxPlane() {
        return pointwiseBatchedMaxPlane;
    }

    /** The activation-gate policy as set. */
    public Gates activationGates() {
        return activationGates;
    }

    /** Whether training keeps activation gates for a model of {@code macsPerImage} at its training size. */
    public boolean keepActivationGates(long macsPerImage) {
        return switch (activationGates) {
            case KEEP -> true;
            case RECOMPUTE -> false;
            case AUTO -> macsPerImage < activationGatesMaxMacs;
        };
    }

    /** The model size below which {@link Gates#AUTO} keeps the gates. */
    public long activationGatesMaxMacs() {
        return activationGatesMaxMacs;
    }

    /**
     * Whether WS convolutions keep the standardised kernel out of step memory (in the weight's gradient buffer while
     * that holds no gradient, else recomputed in the backward pass).
     */
    public boolean wsRecompute() {
        return wsRecompute;
    }

    /**
     * Whether training recomputes, in the backward pass, the activation outputs that feed convolutions instead of
     * keeping them for the whole step (they share one buffer in the forward pass).
     */
    public boolean recomputeActivations() {
        return recomputeActivations;
    }

    /**
     * Whether the activations between an NFNet block's convolutions stay in oneDNN's 16-channel blocked layout
     * ({@link ChannelBlocks}) where the convolutions run on oneDNN.
     */
    public boolean channelBlocks() {
        return channelBlocks;
    }

    /**
     * Whether an activation that only feeds weight-standardised convolutions leaves its constant gain to them
     * (folded into their standardised kernels); never with the reference kernels.
     */
    public boolean foldActivationGains() {
        return foldActivationGains && kernels == Kernels.FAST;
    }

    /** Whether step scopes open child scopes per block. */
    public boolean nestedScopes() {
        return nestedScopes;
    }

    /** Extra room (a fraction) a step scope reserves over its first step. */
    public double scopeOverallocation() {
        return scopeOverallocation;
    }

    // ---------------------------------------------------------------- building

    private static volatile NFNetsOptions fromEnvironment;

    /**
     * The defaults with the environment variables and {@code nfnets.*} system properties applied; both are read
     * once, on the first call, and the result is kept for the life of the process.
     */
    public static NFNetsOptions defaults() {
        NFNetsOptions o = fromEnvironment;
        if (o == null) {
            synchronized (NFNetsOptions.class) {
                o = fromEnvironment;
                if (o == null) {
                    o = readEnvironment(System.getenv(), System.getProperties());
                    fromEnvironment = o;
                }
            }
        }
        return o;
    }

    /** The built-in defaults, ignoring the environment and system properties. */
    public static NFNetsOptions builtIn() {
        return new Builder().build();
    }

    /** A builder holding the built-in defaults (not the environment's: see {@link #toBuilder()}). */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this object's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        for (Key k : KEYS.values()) {
            k.copy.accept(this, b);
        }
        return b;
    }

    /** Applies {@code env} (variables) then {@code props} (system properties) to the built-in defaults. */
    static NFNetsOptions readEnvironment(Map<String, String> env, Properties props) {
        Builder b = new Builder();
        for (Key k : KEYS.values()) {
            String v = env.get(k.env);
            if (v != null && !v.isBlank()) {
                k.set(b, v, "environment variable " + k.env);
            }
        }
        TreeSet<String> unknown = new TreeSet<>();
        for (String name : props.stringPropertyNames()) {
            if (!name.startsWith(PREFIX)) {
                continue;
            }
            Key k = KEYS.get(name.substring(PREFIX.length()));
            if (k == null) {
                unknown.add(name);
            } else {
                k.set(b, props.getProperty(name), "system property -D" + name);
            }
        }
        if (!unknown.isEmpty()) {
            LOG.warn("unknown system properties {} ignored; the known nfnets.* keys are {}", unknown, knownKeys());
        }
        return b.build();
    }

    /** Every key, without the prefix, in documentation order. */
    public static java.util.List<String> knownKeys() {
        return java.util.List.copyOf(KEYS.keySet());
    }

    /** Every value as {@code nfnets.*} properties; {@link #fromProperties} rebuilds an equal object. */
    public Properties toProperties() {
        Properties p = new Properties();
        for (Map.Entry<String, Key> e : KEYS.entrySet()) {
            p.setProperty(PREFIX + e.getKey(), e.getValue().get.apply(this));
        }
        return p;
    }

    /**
     * The built-in defaults with {@code props}' {@code nfnets.*} entries applied (keys with or without the prefix);
     * an unknown {@code nfnets.*} key or a bad value fails, naming it.
     */
    public static NFNetsOptions fromProperties(Properties props) {
        Builder b = new Builder();
        for (String name : props.stringPropertyNames()) {
            String key = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
            Key k = KEYS.get(key);
            if (k == null) {
                throw new IllegalArgumentException("unknown option '" + name + "'; known: " + knownKeys());
            }
            k.set(b, props.getProperty(name), "option " + name);
        }
        return b.build();
    }

    /**
     * A builder holding this object's values with {@code key=value} settings applied (as on a command line, prefix optional);
     * a bad key or value fails, naming it.
     */
    public Builder toBuilderWith(Map<String, String> settings) {
        Builder b = toBuilder();
        for (Map.Entry<String, String> e : settings.entrySet()) {
            String key = e.getKey().startsWith(PREFIX) ? e.getKey().substring(PREFIX.length()) : e.getKey();
            Key k = KEYS.get(key);
            if (k == null) {
                throw new IllegalArgumentException("unknown option '" + e.getKey() + "'; known: " + knownKeys());
            }
            k.set(b, e.getValue(), "option " + e.getKey());
        }
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NFNetsOptions other && toProperties().equals(other.toProperties());
    }

    @Override
    public int hashCode() {
        return toProperties().hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NFNetsOptions{");
        String sep = "";
        for (Map.Entry<String, Key> e : KEYS.entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(e.getValue().get.apply(this));
            sep = ", ";
        }
        return sb.append('}').toString();
    }

    // ---------------------------------------------------------------- parsing: one rule per type

    /** Parses a boolean setting: true/false, yes/no, on/off, 1/0 in any case; {@code where} names the source. */
    static boolean parseBoolean(String v, String where) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new IllegalArgumentException(where + ": expected true or false (yes/no, on/off, 1/0), got '" + v + "'");
        };
    }

    static long parseLong(String v, String where) {
        try {
            return Long.parseLong(v.trim().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": expected a whole number, got '" + v + "'");
        }
    }

    static int parseInt(String v, String where) {
        long l = parseLong(v, where);
        if (l > Integer.MAX_VALUE || l < Integer.MIN_VALUE) {
            throw new IllegalArgumentException(where + ": " + v + " is out of range (at most " + Integer.MAX_VALUE + ")");
        }
        return (int) l;
    }

    static double parseDouble(String v, String where) {
        try {
            double d = Double.parseDouble(v.trim());
            if (!Double.isFinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": expected a finite number, got '" + v + "'");
        }
    }

    static <E extends Enum<E>> E parseEnum(Class<E> type, String v, String where) {
        for (E c : type.getEnumConstants()) {
            if (c.name().equalsIgnoreCase(v.trim())) {
                return c;
            }
        }
        throw new IllegalArgumentException(where + ": expected one of " + java.util.Arrays.toString(type.getEnumConstants())
                .toLowerCase(Locale.ROOT) + ", got '" + v + "'");
    }

    private static Gates parseGates(String v, String where) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "auto", "" -> Gates.AUTO;
            case "keep" -> Gates.KEEP;
            case "recompute" -> Gates.RECOMPUTE;
            default -> parseBoolean(v, where) ? Gates.KEEP : Gates.RECOMPUTE;
        };
    }

    /** One key: its environment variable, how to read it from an options object and how to set it in a builder. */
    private record Key(String env, Function<NFNetsOptions, String> get, Setter set, BiConsumer<NFNetsOptions, Builder> copy) {
        void set(Builder b, String value, String where) {
            if (value == null) {
                throw new IllegalArgumentException(where + ": no value");
            }
            set.apply(b, value, where);
        }
    }

    @FunctionalInterface
    private interface Setter {
        void apply(Builder b, String value, String where);
    }

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    private static void key(String name, Function<NFNetsOptions, String> get, Setter set) {
        String env = "NFNETS_" + name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
        KEYS.put(name, new Key(env, get, set, (o, b) -> set.apply(b, get.apply(o), name)));
    }

    static {
        key("kernels", o -> o.kernels.name().toLowerCase(Locale.ROOT), (b, v, w) -> b.kernels(parseEnum(Kernels.class, v, w)));
        key("onednn", o -> Boolean.toString(o.oneDnn), (b, v, w) -> b.oneDnn(parseBoolean(v, w)));
        key("onednnConv", o -> Boolean.toString(o.oneDnnConv), (b, v, w) -> b.oneDnnConv(parseBoolean(v, w)));
        key("onednnPointwise", o -> Boolean.toString(o.oneDnnPointwise), (b, v, w) -> b.oneDnnPointwise(parseBoolean(v, w)));
        key("onednnConvMaxPlane", o -> Integer.toString(o.oneDnnConvMaxPlane), (b, v, w) -> b.oneDnnConvMaxPlane(parseInt(v, w)));
        key("onednnEltwise", o -> Boolean.toString(o.oneDnnEltwise), (b, v, w) -> b.oneDnnEltwise(parseBoolean(v, w)));
        key("onednnGemm", o -> Boolean.toString(o.oneDnnGemm), (b, v, w) -> b.oneDnnGemm(parseBoolean(v, w)));
        key("onednnEltwiseMin", o -> Long.toString(o.oneDnnEltwiseMin), (b, v, w) -> b.oneDnnEltwiseMin(parseLong(v, w)));
        key("floatKernels", o -> Boolean.toString(o.floatKernels), (b, v, w) -> b.floatKernels(parseBoolean(v, w)));
        key("hostMaxElements", o -> Long.toString(o.hostMaxElements), (b, v, w) -> b.hostMaxElements(parseLong(v, w)));
        key("pointwiseGemm", o -> Boolean.toString(o.pointwiseGemm), (b, v, w) -> b.pointwiseGemm(parseBoolean(v, w)));
        key("pointwiseMinMacs", o -> Long.toString(o.pointwiseMinMacs), (b, v, w) -> b.pointwiseMinMacs(parseLong(v, w)));
        key("pointwiseBatchedMaxPlane", o -> Integer.toString(o.pointwiseBatchedMaxPlane),
                (b, v, w) -> b.pointwiseBatchedMaxPlane(parseInt(v, w)));
        key("activationGates", o -> o.activationGates.name().toLowerCase(Locale.ROOT), (b, v, w) -> b.activationGates(parseGates(v, w)));
        key("activationGatesMaxMacs", o -> Long.toString(o.activationGatesMaxMacs),
                (b, v, w) -> b.activationGatesMaxMacs(parseLong(v, w)));
        key("wsRecompute", o -> Boolean.toString(o.wsRecompute), (b, v, w) -> b.wsRecompute(parseBoolean(v, w)));
        key("recomputeActivations", o -> Boolean.toString(o.recomputeActivations),
                (b, v, w) -> b.recomputeActivations(parseBoolean(v, w)));
        key("nestedScopes", o -> Boolean.toString(o.nestedScopes), (b, v, w) -> b.nestedScopes(parseBoolean(v, w)));
        key("channelBlocks", o -> Boolean.toString(o.channelBlocks), (b, v, w) -> b.channelBlocks(parseBoolean(v, w)));
        key("foldActivationGains", o -> Boolean.toString(o.foldActivationGains),
                (b, v, w) -> b.foldActivationGains(parseBoolean(v, w)));
        key("scopeOverallocation", o -> Double.toString(o.scopeOverallocation), (b, v, w) -> b.scopeOverallocation(parseDouble(v, w)));
        key("maxTensorBytes", o -> Long.toString(o.maxTensorBytes), (b, v, w) -> b.maxTensorBytes(parseLong(v, w)));
        key("maxImagePixels", o -> Long.toString(o.maxImagePixels), (b, v, w) -> b.maxImagePixels(parseLong(v, w)));
        key("maxModelBytes", o -> Long.toString(o.maxModelBytes), (b, v, w) -> b.maxModelBytes(parseLong(v, w)));
        key("cache", o -> o.cache, (b, v, w) -> b.cache(v));
    }

    /** Builds options; starts from the built-in defaults. Values are checked by {@link #build()}. */
    public static final class Builder {
        private Kernels kernels = Kernels.FAST;
        private boolean oneDnn = true;
        private boolean oneDnnConv = true;
        private int oneDnnConvMaxPlane = Integer.MAX_VALUE;
        private boolean oneDnnPointwise = true;
        private boolean oneDnnEltwise = true;
        private boolean oneDnnGemm = true;
        private long oneDnnEltwiseMin = 1 << 14;
        private boolean floatKernels = true;
        private long hostMaxElements = 65_536L;
        private boolean pointwiseGemm = true;
        private long pointwiseMinMacs = 4_000_000L;
        private int pointwiseBatchedMaxPlane = 256;
        private Gates activationGates = Gates.AUTO;
        private long activationGatesMaxMacs = 100_000_000L;
        private boolean wsRecompute = true;
        private boolean recomputeActivations = true;
        private boolean nestedScopes = true;
        private boolean channelBlocks = true;
        private boolean foldActivationGains = true;
        private double scopeOverallocation = 0;
        private long maxTensorBytes = 0;
        private long maxImagePixels = 100_000_000L;
        private long maxModelBytes = 0;
        private String cache = "";

        private Builder() {
        }

        public Builder kernels(Kernels v) {
            kernels = v;
            return this;
        }

        public Builder oneDnn(boolean v) {
            oneDnn = v;
            return this;
        }

        public Builder oneDnnConv(boolean v) {
            oneDnnConv = v;
            return this;
        }

        public Builder oneDnnPointwise(boolean v) {
            oneDnnPointwise = v;
            return this;
        }

        public Builder oneDnnConvMaxPlane(int v) {
            oneDnnConvMaxPlane = v;
            return this;
        }

        public Builder oneDnnEltwise(boolean v) {
            oneDnnEltwise = v;
            return this;
        }

        public Builder oneDnnGemm(boolean v) {
            oneDnnGemm = v;
            return this;
        }

        public Builder oneDnnEltwiseMin(long v) {
            oneDnnEltwiseMin = v;
            return this;
        }

        public Builder floatKernels(boolean v) {
            floatKernels = v;
            return this;
        }

        public Builder hostMaxElements(long v) {
            hostMaxElements = v;
            return this;
        }

        public Builder pointwiseGemm(boolean v) {
            pointwiseGemm = v;
            return this;
        }

        public Builder pointwiseMinMacs(long v) {
            pointwiseMinMacs = v;
            return this;
        }

        public Builder pointwiseBatchedMaxPlane(int v) {
            pointwiseBatchedMaxPlane = v;
            return this;
        }

        public Builder activationGates(Gates v) {
            activationGates = v;
            return this;
        }

        public Builder activationGatesMaxMacs(long v) {
            activationGatesMaxMacs = v;
            return this;
        }

        public Builder wsRecompute(boolean v) {
            wsRecompute = v;
            return this;
        }

        public Builder recomputeActivations(boolean v) {
            recomputeActivations = v;
            return this;
        }

        public Builder channelBlocks(boolean v) {
            channelBlocks = v;
            return this;
        }

        public Builder foldActivationGains(boolean v) {
            foldActivationGains = v;
            return this;
        }

        public Builder nestedScopes(boolean v) {
            nestedScopes = v;
            return this;
        }

        public Builder scopeOverallocation(double v) {
            scopeOverallocation = v;
            return this;
        }

        public Builder maxTensorBytes(long v) {
            maxTensorBytes = v;
            return this;
        }

        public Builder maxImagePixels(long v) {
            maxImagePixels = v;
            return this;
        }

        public Builder maxModelBytes(long v) {
            maxModelBytes = v;
            return this;
        }

        public Builder cache(String v) {
            cache = v;
            return this;
        }

        public NFNetsOptions build() {
            return new NFNetsOptions(this);
        }
    }

    // ---------------------------------------------------------------- the process, for probes and launchers

    /**
     * Read-only facts about the running process that are not behaviour switches (the JVM, OpenMP's
     * environment): the launcher's thread handling and the benchmark's environment probe read them here, so
     * that this class holds every read of system properties and environment variables.
     */
    public static final class Process {
        private Process() {
        }

        /** An environment variable, or null. */
        public static String env(String name) {
            return System.getenv(name);
        }

        /** A JVM system property such as {@code java.version}, or null. */
        public static String jvm(String name) {
            if (name.startsWith(PREFIX)) {
                throw new IllegalArgumentException("nfnets.* settings are options, read through NFNetsOptions: " + name);
            }
            return System.getProperty(name);
        }
    }
}
