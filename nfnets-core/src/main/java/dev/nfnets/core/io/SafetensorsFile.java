package dev.nfnets.core.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * The content of a {@code .safetensors} file: tensors by name (in file order) and the optional string metadata of
 * {@code "__metadata__"}. Both maps are unmodifiable.
 *
 * <pre>{@code
 * SafetensorsFile st = Safetensors.read(Path.of("weights.safetensors"));
 * NpyArray w = st.tensor("stem.conv1.weight");        // F32, OIHW (16, 3, 3, 3)
 * String fmt = st.metadata().get("format");            // "pt"
 * Safetensors.write(Path.of("copy.safetensors"), st);
 * }</pre>
 *
 * @param tensors  tensor name to array, in the order given (the reader uses the order of the data in the file)
 * @param metadata the {@code "__metadata__"} entries; empty when the file has none
 */
public record SafetensorsFile(Map<String, NpyArray> tensors, Map<String, String> metadata) {
    /**
     * Copies both maps into unmodifiable, order-preserving maps.
     *
     * @param tensors  tensor name to array
     * @param metadata string metadata; null means none
     */
    public SafetensorsFile {
        Objects.requireNonNull(tensors, "tensors");
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = metadata == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /**
     * @param name a tensor name
     * @return the tensor
     * @throws NoSuchElementException when there is no tensor of that name
     */
    public NpyArray tensor(String name) {
        NpyArray a = tensors.get(name);
        if (a == null) {
            throw new NoSuchElementException("no tensor '" + name + "' among the " + tensors.size() + " tensors");
        }
        return a;
    }
}
