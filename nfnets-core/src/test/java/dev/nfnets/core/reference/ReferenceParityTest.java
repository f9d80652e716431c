package dev.nfnets.core.reference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The micro fixture (DeepMind semantics) at 64 px (even sizes) and 47 px (odd sizes), both weight formats. */
class ReferenceParityTest {
    private static final Logger log = LoggerFactory.getLogger(ReferenceParityTest.class);

    static Path caseDir(String name) throws URISyntaxException {
        return Path.of(ReferenceParityTest.class.getResource("/fixtures/nfnet-micro/" + name + "/meta.json").toURI()).getParent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"s64", "s47"})
    void logitsLossGradientsAndStepMatchTheReference(String name) throws Exception {
        ReferenceCase rc = ReferenceCase.open(caseDir(name));
        assertEquals(326_463, new dev.nfnets.core.NFNet(rc.config()).parameterCount());
        ReferenceCheck.Report report = new ReferenceCheck(ReferenceCheck.Tolerances.DEFAULT).run(rc);
        log.info("\n{}", report.render());
        assertEquals(7, report.lines().size(), report.render()); // logits+loss x 2 files, grads, skip-gain grads, step
        assertTrue(report.find("skip-gain gradients").orElseThrow().what().contains("[5 tensors]"), report.render());
        assertTrue(report.find("gradients max rel error").orElseThrow().what().contains("[109 tensors]"), report.render());
        assertTrue(report.find("logits max abs error (weights.npz)").isPresent());
        assertTrue(report.find("logits max abs error (weights.safetensors)").isPresent());
        assertTrue(report.ok(), report.render());
    }

    /**
     * With oneDNN's float32 convolutions (what training uses) the same tolerances hold; only the
     * ill-conditioned skip gains' gradients (block 0's at 47 px: terms cancel to 1/65 of their size) move to
     * 1e-4 and beyond, within their own bound ({@link ReferenceCheck.Tolerances}).
     */
    @ParameterizedTest
    @ValueSource(strings = {"s64", "s47"})
    void withOneDnnKernels(String name) throws Exception {
        ReferenceCheck.Tolerances tol = ReferenceCheck.Tolerances.DEFAULT;
        ReferenceCheck.Report report = new ReferenceCheck(tol).run(ReferenceCase.open(caseDir(name)), dev.nfnets.layers.NFNetsOptions.Kernels.FAST);
        log.info("\n{}", report.render());
        assertTrue(report.ok(), report.render());
    }
}
