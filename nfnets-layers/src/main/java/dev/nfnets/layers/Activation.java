package dev.nfnets.layers;

import dev.nfnets.layers.optim.InPlace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Locale;

/**
 * Element-wise nonlinearities with their exact derivatives, as JAX defines them (the NFNet reference).
 * {@link #GELU} is the tanh approximation {@code 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))}, JAX's default and
 * the reference's choice; {@link #GELU_ERF} is the exact form (timm), offered as an explicit deviation.
 */
public enum Activation {
    IDENTITY {
        public INDArray apply(INDArray x) {
            return x.dup();
        }

        public INDArray derivative(INDArray x) {
            return x.ulike().assign(1);
        }
    },
    RELU {
        public INDArray apply(INDArray x) {
            return Transforms.relu(x, true);
        }

        public INDArray derivative(INDArray x) {
            return x.gt(0).castTo(x.dataType());
        }
    },
    RELU6 {
        public INDArray apply(INDArray x) {
            return Transforms.min(Transforms.relu(x, true), 6.0, false);
        }

        public INDArray derivative(INDArray x) {
            return x.gt(0).castTo(x.dataType()).muli(x.lt(6).castTo(x.dataType()));
        }
    },
    LEAKY_RELU {
        public INDArray apply(INDArray x) {
            return Transforms.leakyRelu(x, 0.01, true);
        }

        public INDArray derivative(INDArray x) {
            return x.gte(0).castTo(x.dataType()).muli(0.99).addi(0.01);
        }
    },
    /**
     * tanh-approximation GELU (JAX default, NFNet reference), evaluated through the identity
     * {@code 0.5(1 + tanh(u)) = sigmoid(2u)}: {@code x * sigmoid(2u)} and its derivative
     * {@code s + 2 x s (1-s) u'} with {@code 1-s = sigmoid(-2u)} avoid the cancellation of {@code 1 + tanh} and
     * {@code 1 - tanh^2} in float32 for large |x|.
     */
    GELU {
        public INDArray apply(INDArray x) {
            return sigmoid(geluU2(x), false).muli(x);
        }

        @Override
        public boolean hasGate() {
            return true;
        }

        /** {@code {x * s, s}} with the gate {@code s = sigmoid(2u)}. */
        @Override
        public INDArray[] applyWithGate(INDArray x) {
            INDArray s = sigmoid(geluU2(x), false);
            return new INDArray[] {s.mul(x), s};
        }

        /**
         * From the forward's gate: no sigmoid to recompute (each costs as much as all the other passes
         * together). {@code 1 - s} loses relative precision only where {@code s} is within float rounding of
         * 1, where the term it multiplies is below that rounding relative to {@code s}.
         */
        @Override
        public INDArray derivative(INDArray x, INDArray s) {
            INDArray v = cubePlus(x, 1 / (3 * GELU_K)).muli(s).muli(s.rsub(1.0));
            return InPlace.axpy(6 * GELU_C * GELU_K, v, s.dup());
        }

        public INDArray derivative(INDArray x) {
            INDArray u2 = geluU2(x);
            INDArray s = sigmoid(u2, true);
            INDArray sn = sigmoid(u2.negi(), false);
            // d = s + x s (1-s) 2c (1 + 3k x^2) = s + 6ck * s (1-s) (x^3 + x/(3k))
            INDArray v = cubePlus(x, 1 / (3 * GELU_K)).muli(s).muli(sn);
            return InPlace.axpy(6 * GELU_C * GELU_K, v, s);
        }
    },
    /** Exact GELU {@code x * Phi(x)} (PyTorch default, timm); not the NFNet reference's choice. */
    GELU_ERF {
        public INDArray apply(INDArray x) {
            return erf(x.mul(1 / Math.sqrt(2))).addi(1).muli(x).muli(0.5);
        }

        public INDArray derivative(INDArray x) {
            INDArray cdf = erf(x.mul(1 / Math.sqrt(2))).addi(1).muli(0.5);
            INDArray pdf = exp(x.mul(x).muli(-0.5), false).muli(1 / Math.sqrt(2 * Math.PI));
            return cdf.addi(pdf.muli(x));
        }
    },
    SILU {
        public INDArray apply(INDArray x) {
            return sigmoid(x, true).muli(x);
        }

        public INDArray derivative(INDArray x) {
            INDArray s = sigmoid(x, true);
            return s.rsub(1).muli(x).addi(1).muli(s);
        }
    },
    SIGMOID {
        public INDArray apply(INDArray x) {
            return sigmoid(x, true);
        }

        public INDArray derivative(INDArray x) {
            INDArray s = sigmoid(x, true);
            return s.rsub(1).muli(s);
        }
    },
    TANH {
        public INDArray apply(INDArray x) {
            return tanh(x, true);
        }

        public INDArray derivative(INDArray x) {
            INDArray t = tanh(x, true);
            return t.muli(t).rsubi(1);
        }
    },
    /** ELU with alpha 1 (identical to CELU with alpha 1). */
    ELU {
        public INDArray apply(INDArray x) {
            INDArray pos = x.gt(0).castTo(x.dataType());
            return exp(Transforms.min(x, 0.0, true), false).subi(1).muli(pos.rsub(1)).addi(pos.muli(x));
        }

        public INDArray derivative(INDArray x) {
            INDArray pos = x.gt(0).castTo(x.dataType());
            return exp(Transforms.min(x, 0.0, true), false).muli(pos.rsub(1)).addi(pos);
        }
    },
    CELU {
        public INDArray apply(INDArray x) {
            return ELU.apply(x);
        }

        public INDArray derivative(INDArray x) {
            return ELU.derivative(x);
        }
    },
    SELU {
        public INDArray apply(INDArray x) {
            INDArray pos = x.gt(0).castTo(x.dataType());
            INDArray neg = exp(Transforms.min(x, 0.0, true), false).subi(1).muli(SELU_ALPHA).muli(pos.rsub(1));
            return neg.addi(pos.muli(x)).muli(SELU_SCALE);
        }

        public INDArray derivative(INDArray x) {
            INDArray pos = x.gt(0).castTo(x.dataType());
            INDArray neg = exp(Transforms.min(x, 0.0, true), false).muli(SELU_ALPHA).muli(pos.rsub(1));
            return neg.addi(pos).muli(SELU_SCALE);
        }
    },
    SOFTPLUS {
        public INDArray apply(INDArray x) {
            // log(1+exp(x)) = max(x,0) + log1p(exp(-|x|)), stable for large |x|
            return Transforms.log(exp(Transforms.abs(x, true).negi(), false).addi(1), false)
                    .addi(Transforms.relu(x, true));
        }

        public INDArray derivative(INDArray x) {
            return sigmoid(x, true);
        }
    },
    LOG_SIGMOID {
        public INDArray apply(INDArray x) {
            return SOFTPLUS.apply(x.neg()).negi();
        }

        public INDArray derivative(INDArray x) {
            return sigmoid(x.neg(), false);
        }
    },
    SOFT_SIGN {
        public INDArray apply(INDArray x) {
            return x.div(Transforms.abs(x, true).addi(1));
        }

        public INDArray derivative(INDArray x) {
            INDArray d = Transforms.abs(x, true).addi(1);
            return d.muli(d).rdivi(1);
        }
    };

    public static final double GELU_C = Math.sqrt(2 / Math.PI);
    public static final double GELU_K = 0.044715;
    static final double SELU_ALPHA = 1.6732632423543772;
    static final double SELU_SCALE = 1.0507009873554805;

    /** f(x), as a new array. */
    public abstract INDArray apply(INDArray x);

    /** f'(x), as a new array. */
    public abstract INDArray derivative(INDArray x);

    /**
     * True when the forward pass computes an intermediate (a "gate", such as GELU's {@code sigmoid(2u)}) from
     * which {@link #derivative(INDArray, INDArray)} is much cheaper than {@link #derivative(INDArray)}.
     */
    public boolean hasGate() {
        return false;
    }

    /** {@code {f(x), gate}}; the gate is null for activations without one. */
    public INDArray[] applyWithGate(INDArray x) {
        return new INDArray[] {apply(x), null};
    }

    /** f'(x) given the gate {@link #applyWithGate} returned for the same x. */
    public INDArray derivative(INDArray x, INDArray gate) {
        return derivative(x);
    }

    private static INDArray erf(INDArray x) {
        return org.nd4j.linalg.factory.Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.strict.Erf(x, x));
    }

    // Direct op execution: Transforms.sigmoid/tanh were measured 3-4x slower than the plain ops (M2.1).
    private static INDArray sigmoid(INDArray x, boolean dup) {
        INDArray out = dup ? x.ulike() : x;
        return org.nd4j.linalg.factory.Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid(x, out));
    }

    private static INDArray tanh(INDArray x, boolean dup) {
        INDArray out = dup ? x.ulike() : x;
        return org.nd4j.linalg.factory.Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh(x, out));
    }

    private static INDArray exp(INDArray x, boolean dup) {
        INDArray out = dup ? x.ulike() : x;
        return org.nd4j.linalg.factory.Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.strict.Exp(x, out));
    }

    /**
     * 2u = 2 sqrt(2/pi) (x + 0.044715 x^3), as a new array, rounded in the reference's order (x^3, times k, plus
     * x), in four passes (cube, scale, BLAS axpy, scale). Measured: these passes cost little next to one sigmoid.
     */
    private static INDArray geluU2(INDArray x) {
        INDArray t = x.ulike();
        org.nd4j.linalg.factory.Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.same.Cube(x, t));
        return InPlace.axpy(1.0, x, t.muli(GELU_K)).muli(2 * GELU_C);
    }

    /** {@code x^3 + a x} as a new array. */
    private static INDArray cubePlus(INDArray x, double a) {
        INDArray t = x.ulike();
        org.nd4j.linalg.factory.Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.same.Cube(x, t));
        return InPlace.axpy(a, x, t);
    }

    /** Looks an activation up by its reference name ({@code gelu}, {@code relu}, {@code silu}/{@code swish}, ...). */
    public static Activation byName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        if (n.equals("swish")) {
            return SILU;
        }
        if (n.equals("linear") || n.equals("none")) {
            return IDENTITY;
        }
        try {
            return valueOf(n.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            StringBuilder known = new StringBuilder();
            for (Activation a : values()) {
                known.append(known.length() == 0 ? "" : ", ").append(a.name().toLowerCase(Locale.ROOT));
            }
            throw new IllegalArgumentException("unknown activation '" + name + "'; known: " + known);
        }
    }
}
