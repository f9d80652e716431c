package dev.nfnets.core.weights;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/** How one tensor's layout differs between our parameter and a file format. */
enum Layout {
    /** Identical layout. */
    SAME,
    /** A one-element parameter stored as a scalar {@code ()} (files with {@code (1,)} are accepted too). */
    SCALAR,
    /** Conv kernel: ours HWIO, file OIHW (PyTorch). */
    HWIO_TO_OIHW,
    /** Per-channel gain: ours {@code (O)}, file {@code (O,1,1,1)} (timm). */
    GAIN_O111,
    /** Dense weight: ours {@code (in,out)}, file {@code (out,in)}. */
    DENSE_TRANSPOSE,
    /** Dense weight stored as a 1x1 conv: ours {@code (in,out)}, file {@code (out,in,1,1)} (timm's SE). */
    DENSE_TO_CONV1X1;

    long[] externalShape(long[] ours) {
        return switch (this) {
            case SAME -> ours.clone();
            case SCALAR -> new long[0];
            case HWIO_TO_OIHW -> new long[] {ours[3], ours[2], ours[0], ours[1]};
            case GAIN_O111 -> new long[] {ours[0], 1, 1, 1};
            case DENSE_TRANSPOSE -> new long[] {ours[1], ours[0]};
            case DENSE_TO_CONV1X1 -> new long[] {ours[1], ours[0], 1, 1};
        };
    }

    boolean accepts(long[] fileShape, long[] ours) {
        if (this == SCALAR) {
            return Arrays.stream(fileShape).reduce(1, (a, b) -> a * b) == 1;
        }
        return Arrays.equals(fileShape, externalShape(ours));
    }

    INDArray toExternal(INDArray ours) {
        return switch (this) {
            case SAME -> ours;
            case SCALAR -> ours.reshape();
            case HWIO_TO_OIHW -> ours.permute(3, 2, 0, 1).dup('c');
            case GAIN_O111 -> ours.reshape(ours.length(), 1, 1, 1);
            case DENSE_TRANSPOSE -> ours.transpose().dup('c');
            case DENSE_TO_CONV1X1 -> ours.transpose().dup('c').reshape(ours.size(1), ours.size(0), 1, 1);
        };
    }

    INDArray fromExternal(INDArray file, long[] ours) {
        return switch (this) {
            case SAME -> file;
            case SCALAR -> file.reshape(ours);
            case HWIO_TO_OIHW -> file.permute(2, 3, 1, 0).dup('c');
            case GAIN_O111 -> file.reshape(ours);
            case DENSE_TRANSPOSE -> file.transpose().dup('c');
            case DENSE_TO_CONV1X1 -> file.reshape(file.size(0), file.size(1)).transpose().dup('c');
        };
    }
}
