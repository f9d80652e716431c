package dev.nfnets.core;

import dev.nfnets.layers.Parameter;
import dev.nfnets.layers.Tag;
import dev.nfnets.layers.optim.Sgd;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgcTest {
    /** lr 1, no momentum: the parameter update equals the clipped gradient, so it can be read back. */
    private static Agc agc() {
        return new Agc(Sgd.builder().learningRate(1.0).momentum(0).nesterov(false).build(), 0.01, 1e-3);
    }

    private static INDArray clippedGradient(Parameter p, INDArray grad) {
        INDArray before = p.value().dup();
        p.grad().assign(grad);
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("p", p);
        agc().step(m);
        return before.sub(p.value());
    }

    @Test
    void columnNormsMatchND4JsReduction() {
        for (org.nd4j.linalg.api.buffer.DataType t : new org.nd4j.linalg.api.buffer.DataType[] {
                org.nd4j.linalg.api.buffer.DataType.FLOAT, org.nd4j.linalg.api.buffer.DataType.DOUBLE}) {
            for (long[] shape : new long[][] {{1152, 96}, {7, 3}, {1, 5}, {9, 1}}) {
                org.nd4j.linalg.api.ndarray.INDArray m = org.nd4j.linalg.factory.Nd4j.randn(t, shape);
                org.nd4j.linalg.api.ndarray.INDArray expected = m.norm2(0);
                org.nd4j.linalg.api.ndarray.INDArray actual = Agc.columnNorms(m);
                org.junit.jupiter.api.Assertions.assertArrayEquals(expected.shape(), actual.shape(), java.util.Arrays.toString(shape));
                double err = expected.sub(actual).amaxNumber().doubleValue() / expected.amaxNumber().doubleValue();
                org.junit.jupiter.api.Assertions.assertTrue(err < (t == org.nd4j.linalg.api.buffer.DataType.FLOAT ? 1e-6 : 1e-14),
                        t + " " + java.util.Arrays.toString(shape) + ": relative error " + err);
            }
        }
    }

    @Test
    void belowThresholdIsUnchanged() {
        Parameter w = new Parameter("w", Nd4j.createFromArray(3.0, 4.0), Tag.BIAS);   // ||w|| = 5, max = 0.05
        INDArray g = Nd4j.createFromArray(0.03, 0.039);                              // ||g|| = 0.0492
        assertEquals(g, clippedGradient(w, g));
    }

    @Test
    void aboveThresholdIsRescaledToExactlyTheMaximum() {
        Parameter w = new Parameter("w", Nd4j.createFromArray(3.0, 4.0), Tag.BIAS);
        INDArray g = Nd4j.createFromArray(6.0, 8.0);                                  // ||g|| = 10
        INDArray out = clippedGradient(w, g);
        assertEquals(0.05, out.norm2Number().doubleValue(), 1e-12);
        assertEquals(0.03, out.getDouble(0), 1e-12);                                  // direction kept
        assertEquals(0.04, out.getDouble(1), 1e-12);
    }

    @Test
    void zeroInitialisedScalarGetsMaxNormLambdaTimesEps() {
        Parameter s = new Parameter("skip_gain", Nd4j.zeros(DataType.DOUBLE, 1), Tag.SKIP_GAIN);
        INDArray out = clippedGradient(s, Nd4j.createFromArray(-3.0));
        assertEquals(-1e-5, out.getDouble(0), 1e-15);
        INDArray small = clippedGradient(new Parameter("s", Nd4j.zeros(DataType.DOUBLE, 1), Tag.SKIP_GAIN), Nd4j.createFromArray(4e-6));
        assertEquals(4e-6, small.getDouble(0), 1e-18);
    }

    @Test
    void vectorsAreClippedAsAWholeNotPerElement() {
        // element 0 alone would be far above 0.01*|1| but the whole-vector ratio is what counts
        Parameter gain = new Parameter("gain", Nd4j.createFromArray(1.0, 100.0), Tag.GAIN);  // ||w|| ~ 100.005
        INDArray g = Nd4j.createFromArray(0.5, 0.0);                                         // ||g|| = 0.5 <= 1.00005
        assertEquals(g, clippedGradient(gain, g));
    }

    @Test
    void convKernelsAreClippedPerOutputChannel() {
        // HWIO (1,1,2,2): channel 0 weights (3,4) -> max 0.05; channel 1 weights (0,1) -> max 0.01
        Parameter k = new Parameter("w", Nd4j.createFromArray(3.0, 0.0, 4.0, 1.0).reshape(1, 1, 2, 2), Tag.WEIGHT);
        INDArray g = Nd4j.createFromArray(0.03, 0.6, 0.0, 0.8).reshape(1, 1, 2, 2); // ch0 ||g|| 0.03 (kept), ch1 ||g|| 1.0
        INDArray out = clippedGradient(k, g);
        assertEquals(0.03, out.getDouble(0, 0, 0, 0), 1e-12);
        assertEquals(0.006, out.getDouble(0, 0, 0, 1), 1e-12);
        assertEquals(0.008, out.getDouble(0, 0, 1, 1), 1e-12);
    }

    @Test
    void denseWeightsPerOutputColumnAndClassifierWeightSkipped() {
        Parameter fc = new Parameter("w", Nd4j.createFromArray(new double[][] {{1, 0}, {0, 1}}), Tag.WEIGHT, Tag.CLASSIFIER);
        INDArray g = Nd4j.createFromArray(new double[][] {{5, 0}, {0, 5}});
        assertEquals(g, clippedGradient(fc, g));
        Parameter dense = new Parameter("w", Nd4j.createFromArray(new double[][] {{1, 0}, {0, 1}}), Tag.WEIGHT);
        INDArray out = clippedGradient(dense, Nd4j.createFromArray(new double[][] {{5, 0.001}, {0, 0.002}}));
        assertEquals(0.01, out.getDouble(0, 0), 1e-12);      // column 0 clipped to 0.01*1
        assertEquals(0.002, out.getDouble(1, 1), 1e-12);     // column 1 (norm 0.00224) kept
    }

    @Test
    void statsCountClippedUnits() {
        Agc agc = agc();
        Parameter k = new Parameter("w", Nd4j.createFromArray(3.0, 0.0, 4.0, 1.0).reshape(1, 1, 2, 2), Tag.WEIGHT);
        k.grad().assign(Nd4j.createFromArray(0.03, 0.6, 0.0, 0.8).reshape(1, 1, 2, 2));
        agc.step(Map.of("conv.weight", k));
        AgcStats s = agc.lastStats();
        assertEquals(2, s.totalUnits());
        assertEquals(1, s.totalClipped());
        assertEquals(1.0, s.maxRatio(), 1e-9);  // channel 1: ||g|| 1.0 over ||w|| 1.0
        assertEquals("conv.weight", s.maxRatioParameter());
        assertTrue(s.toString().contains("weights 1/2"), s.toString());
    }
}
