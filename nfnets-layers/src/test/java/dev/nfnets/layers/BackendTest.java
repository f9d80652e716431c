package dev.nfnets.layers;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

import static org.junit.jupiter.api.Assertions.assertTrue;

class BackendTest {
    @Test
    void loadedNativeBackendHasOneDnn() {
        Nd4j.getBackend(); // must come first, else NativeOpsHolder claims missing dependencies
        String info = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo();
        assertTrue(info.contains("HAVE_ONEDNN"),
                "ND4J was loaded without oneDNN (convolutions 4-13x slower); check the nd4j.classifier. Build info:\n" + info);
    }
}
