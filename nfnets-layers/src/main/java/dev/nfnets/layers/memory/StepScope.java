package dev.nfnets.layers.memory;

import dev.nfnets.layers.NFNetsOptions;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The memory scope of one step: every array allocated while it is open (activations, cached inputs,
 * temporaries of forward and backward) lives in one ND4J workspace that is reset when the scope closes.
 *
 * <p>ND4J frees native memory only when the GC collects the Java wrappers, so without a scope the
 * resident memory of a training loop climbs to many GB (see ND4J-NOTES). Parameters, gradients and
 * optimizer state are allocated outside any workspace and are unaffected. Anything that must outlive the
 * step has to be copied out with {@link #detach(INDArray)}; using an array from a closed scope is an error.
 *
 * <pre>{@code
 * for (Batch b : batches) {
 *     try (StepScope scope = StepScope.open("train")) {
 *         INDArray logits = model.forward(b.images(), Mode.TRAIN);
 *         ...
 *         double loss = lossValue.getDouble(0);   // primitives escape freely
 *     }                                           // all step arrays released here
 * }
 * }</pre>
 */
public final class StepScope implements AutoCloseable {
    /**
     * The workspace policy of a scope. {@code overallocation} is the extra room a scope reserves over what its
     * first step used ({@link NFNetsOptions#scopeOverallocation()}, a fraction; default 0): steps repeat the same
     * shapes, and a step that needs more spills and the scope grows at its next reset. ND4J touches all of a
     * workspace, so every extra percent is resident (0.05 cost F0 training at 192 px about 50 MiB;
     * docs/BENCHMARKS.md).
     */
    private static WorkspaceConfiguration config(double overallocation) {
        return CONFIGS.computeIfAbsent(overallocation, StepScope::newConfig);
    }

    private static final java.util.Map<Double, WorkspaceConfiguration> CONFIGS = new java.util.concurrent.ConcurrentHashMap<>();

    private static WorkspaceConfiguration newConfig(double overallocation) {
        return WorkspaceConfiguration.builder()
                .initialSize(0)
                // steps repeat the same shapes; the spill policy grows the workspace if one needs more
                .overallocationLimit(overallocation)
                .policyAllocation(AllocationPolicy.OVERALLOCATE)
                .policyLearning(LearningPolicy.FIRST_LOOP)
                .policyReset(ResetPolicy.BLOCK_LEFT)
                .policySpill(SpillPolicy.REALLOCATE)
                .build();
    }

    /** The options of the innermost open scope of each thread (memory policy for the nested scopes). */
    private static final ThreadLocal<NFNetsOptions> CURRENT = new ThreadLocal<>();

    private final MemoryWorkspace workspace;
    private final NFNetsOptions previous;

    private StepScope(MemoryWorkspace workspace, NFNetsOptions previous) {
        this.workspace = workspace;
        this.previous = previous;
    }

    /**
     * Opens (or re-opens) the scope with this id on the current thread, with {@link NFNetsOptions#defaults()}'s
     * memory policy. Use one id per kind of step ("train", "eval"), so each learns its own size once and is
     * reused.
     */
    public static StepScope open(String id) {
        return open(id, NFNetsOptions.defaults());
    }

    /**
     * Opens (or re-opens) the scope with this id on the current thread, with the memory policy of
     * {@code options} (a model's: {@code scopeOverallocation}, {@code nestedScopes}) for it and the child scopes
     * opened inside it.
     */
    public static StepScope open(String id, NFNetsOptions options) {
        NFNetsOptions previous = CURRENT.get();
        MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(config(options.scopeOverallocation()),
                "nfnets-" + id);
        CURRENT.set(options);
        return new StepScope(ws, previous);
    }

    private static NFNetsOptions current() {
        NFNetsOptions o = CURRENT.get();
        return o != null ? o : NFNetsOptions.defaults();
    }

    /** Copies {@code array} out of any workspace so it survives the scope. */
    public static INDArray detach(INDArray array) {
        return array == null ? null : array.detach();
    }

    /** Runs {@code body} with all workspaces suspended: what it allocates is long-lived. */
    public static <T> T outside(java.util.function.Supplier<T> body) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return body.get();
        }
    }

    /**
     * One line per workspace of the calling thread: bytes reserved, bytes the last completed step allocated in
     * it, and bytes that did not fit and were allocated outside it (spilled and pinned), in MiB.
     */
    public static String describeWorkspaces() {
        StringBuilder sb = new StringBuilder();
        for (MemoryWorkspace w : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(w.getId()).append(String.format(java.util.Locale.ROOT, " %.1f MiB (last step %.1f",
                    w.getCurrentSize() / 1048576.0, w.getLastCycleAllocations() / 1048576.0));
            if (w instanceof org.nd4j.linalg.api.memory.abstracts.Nd4jWorkspace n
                    && (n.getSpilledSize() > 0 || n.getPinnedSize() > 0)) {
                sb.append(String.format(java.util.Locale.ROOT, ", spilled %.1f, pinned %.1f",
                        n.getSpilledSize() / 1048576.0, n.getPinnedSize() / 1048576.0));
            }
            sb.append(')');
        }
        return sb.toString();
    }

    /** Bytes currently reserved by this scope's workspace. */
    public long reservedBytes() {
        return workspace.getCurrentSize();
    }

    @Override
    public void close() {
        try {
            workspace.close();
        } finally {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }

    /**
     * Runs {@code f(input)} in a child scope that is reset when it returns, and copies only the result into the
     * enclosing scope. A step scope is a bump allocator, so without this every temporary of the step stays
     * until the step ends; with it, the temporaries of one block's backward pass (or of an inference forward
     * pass) are recycled for the next block, and the step's peak memory holds the largest block's temporaries
     * instead of the sum over all blocks. Nothing {@code f} allocates may be kept elsewhere (a layer's cache,
     * say) except the returned array; gradients accumulated into detached parameter arrays are fine. Outside
     * any scope, or with the option {@code nfnets.nestedScopes=false}, it simply applies {@code f}.
     */
    public static INDArray nested(java.util.function.UnaryOperator<INDArray> f, INDArray input) {
        MemoryWorkspace parent = Nd4j.getMemoryManager().getCurrentWorkspace();
        if (parent == null || !current().nestedScopes()) {
            return f.apply(input);
        }
        String parentId = parent.getId();
        return nestedRun(() -> {
            INDArray out = f.apply(input);
            return out == null ? null : out.leverageTo(parentId, true);
        });
    }

    /**
     * {@link #nested} for a chain of calls (the blocks of a network, forward in inference or backward in
     * training), where each result is only the next call's input: results are copied into two buffers in the
     * enclosing scope, used in turn, instead of each into fresh memory there. The enclosing scope then holds two
     * results' worth (at most {@code capacity} elements each) instead of the sum over the chain (NFNet-F0 inference
     * at 128 px, batch 8: step scope 63.7 -> 38.0 MiB; training at 192 px: 944.7 -> 846.8 MiB). A result is valid until the call after the
     * next one. Results larger than {@code capacity}, or of another data type than the first input, are copied as
     * {@link #nested} does. Use one carry per chain, within one scope.
     */
    public static final class Carry {
        private final long capacity;
        private final INDArray[] buffers = new INDArray[2];
        private int next;

        public Carry(long capacity) {
            if (capacity < 1) {
                throw new IllegalArgumentException("StepScope.Carry: capacity must be >= 1 element, got " + capacity);
            }
            this.capacity = capacity;
        }

        /** {@code f(input)} in a child scope; the result is copied into the next buffer. */
        public INDArray nested(java.util.function.UnaryOperator<INDArray> f, INDArray input) {
            MemoryWorkspace parent = Nd4j.getMemoryManager().getCurrentWorkspace();
            if (parent == null || !current().nestedScopes()) {
                return f.apply(input);
            }
            int slot = next;
            if (buffers[slot] == null) {
                // allocated here, in the enclosing scope, before the child scope opens
                buffers[slot] = Nd4j.createUninitialized(input.dataType(), capacity);
            }
            INDArray buffer = buffers[slot];
            if (within(input, buffer)) {
                throw new IllegalStateException("StepScope.Carry: the input is the buffer about to be overwritten"
                        + " (a carry result was used two calls later)");
            }
            String parentId = parent.getId();
            INDArray result = nestedRun(() -> {
                INDArray out = f.apply(input);
                if (out == null) {
                    return null;
                }
                if (out.length() > capacity || out.dataType() != buffer.dataType()) {
                    return out.leverageTo(parentId, true);
                }
                // a whole array over the buffer's start, so the next call's kernels take their dense paths
                return Scratch.prefix(buffer, out.shape()).assign(out);
            });
            if (result != null && within(result, buffer)) {
                next = 1 - slot;
            }
            return result;
        }

        /** Whether {@code a}'s data starts inside {@code buffer}'s memory. */
        private static boolean within(INDArray a, INDArray buffer) {
            long start = buffer.data().address();
            long end = start + buffer.length() * buffer.dataType().width();
            long p = a.data().address() + a.offset() * a.dataType().width();
            return p >= start && p < end;
        }
    }

    /**
     * Runs {@code body} in a child scope that is reset when it returns, for work whose arrays are all temporary
     * (it may update detached arrays in place and return Java values, never an array of its own). Outside any
     * scope it simply runs {@code body}.
     */
    public static <T> T nestedRun(java.util.function.Supplier<T> body) {
        MemoryWorkspace parent = Nd4j.getMemoryManager().getCurrentWorkspace();
        if (parent == null || !current().nestedScopes()) {
            return body.get();
        }
        WorkspaceConfiguration nested = config(current().scopeOverallocation());
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(nested, parent.getId() + "-nested")) {
            return body.get();
        }
    }

    /** Destroys all scopes of the current thread, releasing their native memory. */
    public static void releaseAll() {
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    }
}
