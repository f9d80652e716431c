package dev.nfnets.core.inference;

import java.util.Locale;

/**
 * One ranked answer of an {@link ImageClassifier}.
 *
 * @param classIndex  index into the model's logits
 * @param label       human-readable class name
 * @param probability softmax probability over all classes, in [0, 1]
 */
public record Prediction(int classIndex, String label, double probability) {
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d %s (%.2f%%)", classIndex, label, 100 * probability);
    }
}
