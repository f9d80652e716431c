package dev.nfnets.core.io;

import java.io.IOException;

/**
 * Thrown when a tensor file (.npy, .npz, .safetensors) is malformed, truncated or uses something this library does not
 * support. The message names the file (and the entry or tensor) and what is wrong with it.
 *
 * <p>It is an {@link IOException}, so callers that only handle {@code IOException} also handle it; catch it
 * separately to tell a corrupt file from a failing disk.
 *
 * <pre>{@code
 * try {
 *     NpyArray a = Npy.read(path);
 * } catch (TensorFormatException e) {
 *     log.error("corrupt tensor file: {}", e.getMessage());
 * }
 * }</pre>
 */
public class TensorFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what is wrong, naming the file
     */
    public TensorFormatException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong, naming the file
     * @param cause   the underlying failure
     */
    public TensorFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
