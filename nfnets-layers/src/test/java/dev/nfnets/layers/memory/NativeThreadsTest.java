package dev.nfnets.layers.memory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NativeThreadsTest {
    private static int ompMaxThreads() throws ReflectiveOperationException {
        Class<?> holder = Class.forName("org.nd4j.nativeblas.NativeOpsHolder");
        Object ops = holder.getMethod("getDeviceNativeOps").invoke(holder.getMethod("getInstance").invoke(null));
        return (Integer) ops.getClass().getMethod("ompGetMaxThreads").invoke(ops);
    }

    @Test
    void setChangesNd4jAndOpenMpForThisThread() throws Exception {
        int before = NativeThreads.current();
        int ompBefore = ompMaxThreads();
        try {
            NativeThreads.set(1);
            assertEquals(1, NativeThreads.current());
            assertEquals(1, ompMaxThreads());
            assertEquals(1, org.nd4j.linalg.factory.Nd4j.getEnvironment().maxMasterThreads());
        } finally {
            NativeThreads.set(Math.max(1, before));
        }
        assertEquals(ompBefore, ompMaxThreads());
    }

    @Test
    void autoPicksOneThreadForSmallModels() {
        assertEquals(1, NativeThreads.auto(19_000_000L, 2));              // nfnet-mnist
        assertEquals(2, NativeThreads.auto(12_384_198_656L, 2));          // F0 at 256 px
        assertEquals(1, NativeThreads.auto(NativeThreads.SMALL_MODEL_MACS, 0));
        assertThrows(IllegalArgumentException.class, () -> NativeThreads.set(0));
    }
}
