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
        assertEquals(6, report.lines().size(), report.render()); // logits+loss x 2 files, grads, step
        assertTrue(report.find("logits max abs error (weights.npz)").isPresent());
        assertTrue(report.find("logits max abs error (weights.safetensors)").isPresent());
        assertTrue(report.ok(), report.render());
    }

    /**
     * With oneDNN's float32 convolutions (what training uses) everything meets the spec tolerances except
     * that one ill-conditioned gradient (block 0's skip gain at 47 px, whose terms cancel to 1/65 of their
     * size) reaches about 1.4e-4; the bound here is 2.5e-4 for gradients.
     */
    @ParameterizedTest
    @ValueSource(strings = {"s64", "s47"})
    void withOneDnnKernels(String name) throws Exception {
        ReferenceCheck.Tolerances tol = new ReferenceCheck.Tolerances(1e-5, 1e-5, 2.5e-4, 1e-5);
        ReferenceCheck.Report report = new ReferenceCheck(tol).run(ReferenceCase.open(caseDir(name)), ReferenceCheck.Kernels.ONEDNN);
        log.info("\n{}", report.render());
        assertTrue(report.ok(), report.render());
    }
}
