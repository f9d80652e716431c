package dev.nfnets.examples;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import dev.nfnets.core.weights.ConfigJson;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Classifies images with a trained NFNet and prints the five most probable classes of each.
 *
 * <pre>
 *   # DeepMind weights (converted to a real .npz, see docs/user-guide.md) or timm's dm_nfnet_f0 safetensors
 *   java ... dev.nfnets.examples.ClassifyImages --model f0 F0.npz cat.jpg dog.png
 *   # a weights.safetensors written by this library, or its run folder: the model config and the class names
 *   # ("Ankle boot") are inside the file
 *   java ... dev.nfnets.examples.ClassifyImages runs/fashion-mnist/weights.safetensors shirt.png
 *   java ... dev.nfnets.examples.ClassifyImages runs/fashion-mnist shirt.png
 * </pre>
 *
 * {@code --model} takes f0..f7, mnist or a config JSON file. RGB models see the reference evaluation
 * preprocessing (bicubic squash-resize to S+32, centre crop S, ImageNet mean/std; S is the model's test size),
 * one-channel models a grey resize to S with Fashion-MNIST statistics.
 */
public final class ClassifyImages {
    private ClassifyImages() {
    }

    public static void main(String[] args) throws IOException {
        String model = null;
        List<String> rest = new ArrayList<>(List.of(args));
        if (rest.size() >= 2 && rest.get(0).equals("--model")) {
            model = rest.remove(1);
            rest.remove(0);
        }
        if (rest.size() < 2) {
            System.err.println("usage: ClassifyImages [--model f0|...|config.json] WEIGHTS IMAGE...");
            System.exit(2);
        }
        Path weights = Path.of(rest.get(0));
        List<Path> images = rest.subList(1, rest.size()).stream().map(Path::of).toList();

        NFNet net = loadModel(weights, model);
        List<List<Prediction>> results = classify(net, images, 5);
        for (int i = 0; i < images.size(); i++) {
            System.out.println(images.get(i) + ":");
            for (Prediction p : results.get(i)) {
                System.out.printf(Locale.ROOT, "  %6.2f%%  %4d  %s%n", 100 * p.probability(), p.classIndex(), p.label());
            }
        }
    }

    /**
     * A model with its weights: from a native file alone (it carries its config) when {@code model} is null,
     * else the named variant or config JSON with a DeepMind {@code .npz}, timm or native {@code .safetensors} file.
     */
    public static NFNet loadModel(Path weights, String model) throws IOException {
        if (model == null) {
            return NFNets.load(weights);
        }
        NFNetConfig config = model.endsWith(".json") ? ConfigJson.read(Path.of(model)) : NFNetConfig.byName(model);
        return NFNets.load(config, weights);
    }

    /** The {@code topK} best classes of each image (capped at the model's class count), best first. */
    public static List<List<Prediction>> classify(NFNet model, List<Path> images, int topK) throws IOException {
        ImageClassifier classifier = NFNets.classifier(model);   // the model's class names, else ImageNet's for 1000 classes
        return classifier.classifyAll(images, Math.min(topK, model.config().numClasses()));
    }
}
