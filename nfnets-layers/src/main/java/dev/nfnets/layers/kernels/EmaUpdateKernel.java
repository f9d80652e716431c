package dev.nfnets.layers.kernels;

import dev.nfnets.layers.FloatKernels;
import dev.nfnets.layers.HostArrays;
import dev.nfnets.layers.NFNetsOptions;
import dev.nfnets.layers.optim.InPlace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * One way to update an exponential moving average in place: {@code e = d * e + (1 - d) * v}.
 *
 * <p>Implementations ({@link #choose} picks one per array from the options):
 * <ul>
 *   <li>{@link #REFERENCE}: two in-place ND4J ops (a scale and an axpy).</li>
 *   <li>{@link #HOST}: small whole arrays in one double-precision host loop ({@code nfnets.hostMaxElements}).</li>
 *   <li>{@link #FLOAT}: large dense FLOAT arrays in one pass over both ({@code nfnets.floatKernels}).</li>
 * </ul>
 */
public interface EmaUpdateKernel {
    String name();

    /** {@code average = decay * average + (1 - decay) * value}, in place. */
    void update(INDArray average, INDArray value, double decay);

    EmaUpdateKernel REFERENCE = new EmaUpdateKernel() {
        @Override
        public String name() {
            return "nd4j";
        }

        @Override
        public void update(INDArray e, INDArray v, double d) {
            InPlace.axpy(1 - d, v, e.muli(d));
        }
    };

    /** Small tensors: one host loop instead of two native ops ({@link HostArrays} explains why). */
    EmaUpdateKernel HOST = new EmaUpdateKernel() {
        @Override
        public String name() {
            return "host";
        }

        @Override
        public void update(INDArray s, INDArray value, double d) {
            double[] e = HostArrays.read(s);
            double[] v = HostArrays.read(value);
            for (int i = 0; i < e.length; i++) {
                e[i] = d * e[i] + (1 - d) * v[i];
            }
            HostArrays.write(s, e);
        }
    };

    /** Large FLOAT tensors: one pass over both instead of a scale and an axpy. */
    EmaUpdateKernel FLOAT = new EmaUpdateKernel() {
        @Override
        public String name() {
            return "float";
        }

        @Override
        public void update(INDArray s, INDArray value, double d) {
            FloatBuffer e = FloatKernels.floats(s);
            FloatBuffer v = FloatKernels.floats(value);
            FloatKernels.parallel((int) s.length(), (from, to) -> {
                for (int i = from; i < to; i++) {
                    e.put(i, (float) (d * e.get(i) + (1 - d) * v.get(i)));
                }
            });
        }
    };

    /** The host loop for small whole arrays, the float pass for large dense FLOAT ones, else the ND4J ops. */
    static EmaUpdateKernel choose(INDArray average, INDArray value, NFNetsOptions o) {
        if (HostArrays.eligible(o, average, value)) {
            return HOST;
        }
        if (FloatKernels.eligible(o, average, value)) {
            return FLOAT;
        }
        return REFERENCE;
    }
}
