package dev.nfnets.layers.memory;

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
    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0)
            // steps repeat the same shapes; the spill policy grows the workspace if one needs more
            .overallocationLimit(0.05)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private final MemoryWorkspace workspace;

    private StepScope(MemoryWorkspace workspace) {
        this.workspace = workspace;
    }

    /**
     * Opens (or re-opens) the scope with this id on the current thread. Use one id per kind of step
     * ("train", "eval"), so each learns its own size once and is reused.
     */
    public static StepScope open(String id) {
        return new StepScope(Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "nfnets-" + id));
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

    /** Every workspace of the calling thread (step scopes and their children) with the bytes it reserves. */
    public static java.util.Map<String, Long> reservedByWorkspace() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        for (MemoryWorkspace w : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
            out.merge(w.getId(), w.getCurrentSize(), Long::sum);
        }
        return out;
    }

    /** Bytes currently reserved by this scope's workspace. */
    public long reservedBytes() {
        return workspace.getCurrentSize();
    }

    @Override
    public void close() {
        workspace.close();
    }

    private static final WorkspaceConfiguration NESTED = WorkspaceConfiguration.builder()
            .initialSize(0)
            .overallocationLimit(0.05)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    /**
     * Runs {@code f(input)} in a child scope that is reset when it returns, and copies only the result into the
     * enclosing scope. A step scope is a bump allocator, so without this every temporary of the step stays
     * until the step ends; with it, the temporaries of one block's backward pass (or of an inference forward
     * pass) are recycled for the next block, and the step's peak memory holds the largest block's temporaries
     * instead of the sum over all blocks. Nothing {@code f} allocates may be kept elsewhere (a layer's cache,
     * say) except the returned array; gradients accumulated into detached parameter arrays are fine. Outside
     * any scope, or with {@code nfnets.nestedScopes=false}, it simply applies {@code f}.
     */
    public static INDArray nested(java.util.function.UnaryOperator<INDArray> f, INDArray input) {
        MemoryWorkspace parent = Nd4j.getMemoryManager().getCurrentWorkspace();
        if (parent == null || !NESTED_ENABLED) {
            return f.apply(input);
        }
        String parentId = parent.getId();
        return nestedRun(() -> {
            INDArray out = f.apply(input);
            return out == null ? null : out.leverageTo(parentId, true);
        });
    }

    /**
     * Runs {@code body} in a child scope that is reset when it returns, for work whose arrays are all temporary
     * (it may update detached arrays in place and return Java values, never an array of its own). Outside any
     * scope it simply runs {@code body}.
     */
    public static <T> T nestedRun(java.util.function.Supplier<T> body) {
        MemoryWorkspace parent = Nd4j.getMemoryManager().getCurrentWorkspace();
        if (parent == null || !NESTED_ENABLED) {
            return body.get();
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(NESTED, parent.getId() + "-nested")) {
            return body.get();
        }
    }

    private static final boolean NESTED_ENABLED = !"false".equals(System.getProperty("nfnets.nestedScopes"));

    /** Destroys all scopes of the current thread, releasing their native memory. */
    public static void releaseAll() {
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    }
}
