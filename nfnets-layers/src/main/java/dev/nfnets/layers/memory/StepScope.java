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
            .overallocationLimit(0.2)
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

    /** Bytes currently reserved by this scope's workspace. */
    public long reservedBytes() {
        return workspace.getCurrentSize();
    }

    @Override
    public void close() {
        workspace.close();
    }

    /** Destroys all scopes of the current thread, releasing their native memory. */
    public static void releaseAll() {
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    }
}
