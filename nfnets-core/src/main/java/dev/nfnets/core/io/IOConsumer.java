package dev.nfnets.core.io;

import java.io.IOException;

/**
 * A consumer that may throw {@link IOException}, used as the body of {@link AtomicFiles#write(java.nio.file.Path, IOConsumer)}.
 *
 * <pre>{@code
 * IOConsumer<OutputStream> body = out -> out.write(bytes);
 * AtomicFiles.write(Path.of("state.bin"), body);
 * }</pre>
 *
 * @param <T> the type of the consumed value
 */
@FunctionalInterface
public interface IOConsumer<T> {
    /**
     * Consumes {@code value}.
     *
     * @param value the value
     * @throws IOException on an I/O failure
     */
    void accept(T value) throws IOException;
}
