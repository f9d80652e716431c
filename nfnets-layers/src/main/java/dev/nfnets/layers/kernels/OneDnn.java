package dev.nfnets.layers.kernels;

import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.memory.Aligned;

import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static org.bytedeco.dnnl.global.dnnl.*;

/**
 * The plumbing shared by the layers that call oneDNN directly through JavaCPP's {@code org.bytedeco:dnnl} preset
 * ({@link OneDnnConv}, {@link OneDnnEltwise}): one CPU engine and stream, descriptor and primitive helpers, and
 * per-call memory objects over ND4J buffers. Every call runs under this class's lock ({@link #call}), with its
 * JavaCPP allocations freed and its memory objects destroyed when it ends.
 *
 * <p>The options {@code nfnets.onednn}, {@code nfnets.onednnConv} and {@code nfnets.onednnEltwise}
 * ({@link NFNetsOptions}) turn the direct paths off per model; without the natives they are off and the layers
 * use ND4J's ops.
 */
final class OneDnn {
    private static final Logger LOG = LoggerFactory.getLogger(OneDnn.class);

    private OneDnn() {
    }

    private static dnnl_engine engine;
    private static dnnl_stream stream;
    private static final boolean AVAILABLE = probe();

    private static boolean probe() {
        try {
            PointerPointer<?> pp = new PointerPointer<>(1);
            check(dnnl_engine_create(pp, dnnl_cpu, 0), "engine");
            engine = new dnnl_engine(pp.get(0));
            check(dnnl_stream_create(pp, engine, dnnl_stream_default_flags), "stream");
            stream = new dnnl_stream(pp.get(0));
            return true;
        } catch (Throwable t) {
            LOG.info("oneDNN natives unavailable ({}); using ND4J's ops for convolutions and activations", t.toString());
            return false;
        }
    }

    /** Whether the oneDNN natives loaded. */
    static boolean available() {
        return AVAILABLE;
    }

    static dnnl_engine engine() {
        return engine;
    }

    static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN: " + what + " failed with status " + status);
        }
    }

    static dnnl_memory_desc_t md(long[] dims, int tag) {
        dnnl_memory_desc_t m = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_by_tag(m, dims.length, dims, dnnl_f32, tag), "memory descriptor");
        return m;
    }

    /** A primitive descriptor for operation descriptor {@code opDesc} (the first implementation oneDNN offers). */
    static dnnl_primitive_desc pd(Pointer opDesc, dnnl_primitive_desc hint) {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(dnnl_primitive_desc_create(pp, new const_dnnl_op_desc_t(opDesc), null, engine, hint), "primitive descriptor");
        return new dnnl_primitive_desc(pp.get(0));
    }

    static dnnl_primitive primitive(dnnl_primitive_desc p) {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(dnnl_primitive_create(pp, p), "primitive");
        return new dnnl_primitive(pp.get(0));
    }

    /** A copy of one of the primitive descriptor's memory descriptors (the returned one belongs to {@code p}). */
    static dnnl_memory_desc_t query(dnnl_primitive_desc p, int what) {
        dnnl_memory_desc_t q = dnnl_primitive_desc_query_md(p, what, 0);
        dnnl_memory_desc_t m = new dnnl_memory_desc_t();
        Pointer.memcpy(m, q, m.sizeof());
        return m;
    }

    static boolean same(dnnl_memory_desc_t a, dnnl_memory_desc_t b) {
        return dnnl_memory_desc_equal(a, b) != 0;
    }

    /**
     * A least-recently-used cache of native plans (primitives per shape) holding at most {@code max}, which
     * destroys the plans it drops: inputs of many sizes do not grow native memory without bound.
     */
    static final class PlanCache<P> extends java.util.LinkedHashMap<String, P> {
        private final int max;
        private final java.util.function.Consumer<P> destroy;

        PlanCache(int max, java.util.function.Consumer<P> destroy) {
            super(16, 0.75f, true);
            this.max = max;
            this.destroy = destroy;
        }

        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<String, P> eldest) {
            if (size() <= max) {
                return false;
            }
            destroy.accept(eldest.getValue());
            return true;
        }
    }

    /** Memory objects of the current call, destroyed when it ends (they do not own their buffers). */
    private static final List<dnnl_memory> CALL_MEMORIES = new ArrayList<>();

    /** A oneDNN memory over the array's native buffer (the array must be dense, c-order, offset 0). */
    static dnnl_memory memory(dnnl_memory_desc_t d, INDArray a) {
        check(dnnl_memory_create(HANDLE, d, engine, a.data().addressPointer()), "memory");
        dnnl_memory m = new dnnl_memory(HANDLE.get(0));
        CALL_MEMORIES.add(m);
        return m;
    }

    /** Runs one call's work with its JavaCPP allocations freed and its memory objects destroyed at the end. */
    static synchronized void call(Runnable body) {
        try (PointerScope ignored = new PointerScope()) {
            body.run();
        } finally {
            for (dnnl_memory m : CALL_MEMORIES) {
                dnnl_memory_destroy(m);
            }
            CALL_MEMORIES.clear();
        }
    }

    /**
     * A scratch array (in the current memory scope) large enough for descriptor {@code d}, on a 64-byte boundary
     * ({@link Aligned}): the blocked copies that the convolution kernels read and write. On ND4J's 16-byte
     * boundaries the same kernels ran about 10% slower per call.
     */
    static INDArray scratch(dnnl_memory_desc_t d) {
        long floats = (dnnl_memory_desc_get_size(d) + 3) / 4;
        return Aligned.floats(floats);
    }

    static void exec(dnnl_primitive prim, int[] keys, dnnl_memory... mems) {
        if (keys.length > MAX_ARGS) {
            throw new IllegalArgumentException("oneDNN: " + keys.length + " arguments, at most " + MAX_ARGS);
        }
        for (int i = 0; i < keys.length; i++) {
            ARGS.position(i).arg(keys[i]).memory(mems[i]);
        }
        ARGS.position(0);
        check(dnnl_primitive_execute(prim, stream, keys.length, ARGS), "execute");
    }

    /**
     * The handle slot of {@link #memory} and the argument list of {@link #exec}, allocated once and reused by every
     * call (they run under this class's lock): a native allocation per memory object and per primitive call was
     * hundreds per training step, and with JavaCPP's {@code maxPhysicalBytes} cap each allocation also reads the
     * process's resident size from {@code /proc} (docs/BENCHMARKS.md, "Where the main thread waits").
     */
    private static final int MAX_ARGS = 8;
    private static final PointerPointer<?> HANDLE = new PointerPointer<>(1).retainReference();
    private static final dnnl_exec_arg_t ARGS = new dnnl_exec_arg_t(MAX_ARGS).retainReference();
}
