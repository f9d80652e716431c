package dev.nfnets.layers;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NFNetsOptionsTest {
    private static NFNetsOptions read(Map<String, String> env, Map<String, String> props) {
        Properties p = new Properties();
        p.putAll(props);
        return NFNetsOptions.readEnvironment(env, p);
    }

    @Test
    void builtInDefaults() {
        NFNetsOptions o = NFNetsOptions.builtIn();
        assertEquals(NFNetsOptions.Kernels.FAST, o.kernels());
        assertTrue(o.oneDnnConv() && o.oneDnnPointwise() && o.oneDnnEltwise() && o.floatKernels() && o.pointwiseGemm() && o.wsRecompute());
        assertEquals(65_536L, o.hostMaxElements());
        assertEquals(256, o.pointwiseBatchedMaxPlane());
        assertEquals(NFNetsOptions.Gates.AUTO, o.activationGates());
    }

    /** System properties override environment variables, which override the defaults; one boolean rule for both. */
    @Test
    void environmentThenSystemPropertiesInOrder() {
        NFNetsOptions o = read(Map.of("NFNETS_HOST_MAX_ELEMENTS", "10", "NFNETS_WS_RECOMPUTE", "no", "NFNETS_ONEDNN_CONV", "off"),
                Map.of("nfnets.hostMaxElements", "20", "nfnets.floatKernels", "FALSE", "unrelated.key", "x"));
        assertEquals(20, o.hostMaxElements());
        assertFalse(o.wsRecompute(), "yes/no is a boolean like true/false");
        assertFalse(o.oneDnnConv());
        assertFalse(o.floatKernels());
        assertTrue(o.oneDnnEltwise());
    }

    @Test
    void badValuesFailNamingTheKeyAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> read(Map.of(), Map.of("nfnets.wsRecompute", "maybe")));
        assertTrue(e.getMessage().contains("-Dnfnets.wsRecompute") && e.getMessage().contains("'maybe'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(Map.of("NFNETS_HOST_MAX_ELEMENTS", "lots"), Map.of()));
        assertTrue(e.getMessage().contains("NFNETS_HOST_MAX_ELEMENTS") && e.getMessage().contains("'lots'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(Map.of(), Map.of("nfnets.hostMaxElements", "-1")));
        assertTrue(e.getMessage().contains("nfnets.hostMaxElements must be >= 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(Map.of(), Map.of("nfnets.kernels", "turbo")));
        assertTrue(e.getMessage().contains("[fast, reference]"), e.getMessage());
    }

    /** A misspelt system property is warned about (and otherwise ignored); in a properties file it is an error. */
    @Test
    void unknownKeys() {
        assertEquals(NFNetsOptions.builtIn(), read(Map.of(), Map.of("nfnets.floatKernel", "false")));
        Properties p = new Properties();
        p.setProperty("nfnets.floatKernel", "false");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NFNetsOptions.fromProperties(p));
        assertTrue(e.getMessage().contains("nfnets.floatKernel") && e.getMessage().contains("floatKernels"), e.getMessage());
    }

    /** Another process rebuilds the same choices, from properties or Java serialisation. */
    @Test
    void roundTripsThroughPropertiesAndSerialisation() throws Exception {
        NFNetsOptions o = NFNetsOptions.builder().kernels(NFNetsOptions.Kernels.REFERENCE).hostMaxElements(7)
                .activationGates(NFNetsOptions.Gates.RECOMPUTE).scopeOverallocation(0.25).oneDnnConvMaxPlane(99).build();
        assertEquals(o, NFNetsOptions.fromProperties(o.toProperties()));
        assertNotEquals(NFNetsOptions.builtIn(), o);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(o, in.readObject());
        }
        assertEquals(o, o.toBuilder().build());
        assertEquals(NFNetsOptions.knownKeys().size(), o.toProperties().size());
    }

    /** Reference kernels turn every fast path off whatever its own switch says. */
    @Test
    void referenceKernelsTurnEveryFastPathOff() {
        NFNetsOptions r = NFNetsOptions.builder().kernels(NFNetsOptions.Kernels.REFERENCE).build();
        assertFalse(r.oneDnnConv() || r.oneDnnPointwise() || r.oneDnnEltwise() || r.floatKernels() || r.pointwiseGemm());
        assertEquals(0, r.hostMaxElements());
        NFNetsOptions noOneDnn = NFNetsOptions.builder().oneDnn(false).build();
        assertFalse(noOneDnn.oneDnnConv() || noOneDnn.oneDnnEltwise());
    }

    @Test
    void activationGatePolicy() {
        NFNetsOptions auto = NFNetsOptions.builtIn();
        assertTrue(auto.keepActivationGates(1_000_000));
        assertFalse(auto.keepActivationGates(1_000_000_000));
        assertTrue(read(Map.of(), Map.of("nfnets.activationGates", "true")).keepActivationGates(Long.MAX_VALUE));
        assertFalse(read(Map.of(), Map.of("nfnets.activationGates", "recompute")).keepActivationGates(0));
    }

    @Test
    void processFactsRefuseOptionKeys() {
        assertThrows(IllegalArgumentException.class, () -> NFNetsOptions.Process.jvm("nfnets.onednn"));
        assertTrue(NFNetsOptions.Process.jvm("java.version") != null);
    }
}
