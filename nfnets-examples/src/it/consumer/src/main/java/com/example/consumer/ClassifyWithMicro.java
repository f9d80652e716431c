package com.example.consumer;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * A program written against nfnets-java's public API only: it builds a small custom NFNet (the configuration
 * of nfnets-java's "micro" reference fixture), loads DeepMind-named weights into it and prints the three most
 * probable classes of each image.
 *
 * <pre>{@code java com.example.consumer.ClassifyWithMicro weights.npz image.png...}</pre>
 */
public final class ClassifyWithMicro {
    private ClassifyWithMicro() {
    }

    /** The reference fixture's NFNet "micro_dmstem_d2111": 326,463 parameters, 10 classes, 64x64 RGB. */
    public static NFNetConfig microConfig() {
        return NFNetConfig.builder(NFNetConfig.f0())
                .name("micro").inChannels(3).numClasses(10)
                .stem(new int[] {16, 32, 64, 32}, new int[] {2, 1, 1, 2})
                .stageWidths(64, 64, 128, 128).stageDepths(2, 1, 1, 1).stageStrides(1, 2, 2, 2)
                .groupWidth(32).bottleneckRatio(0.5).alpha(0.2).seRatio(0.5)
                .activation("gelu").finalConvChannels(256)
                .dropRate(0).stochDepthRate(0)
                .trainSize(64).testSize(64)
                .build();
    }

    /** The micro NFNet with {@code weights} (a DeepMind-named .npz) loaded, as a classifier. */
    public static ImageClassifier classifier(Path weights) throws IOException {
        NFNet model = NFNets.load(microConfig(), weights);
        return NFNets.classifier(model);
    }

    /** Classifies each image and prints its top 3 to {@code out}, one line per image. */
    public static void run(Path weights, List<Path> images, PrintStream out) throws IOException {
        ImageClassifier classifier = classifier(weights);
        for (Path image : images) {
            List<Prediction> top3 = classifier.classify(image, 3);
            out.println(image.getFileName() + ": " + top3);
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: ClassifyWithMicro WEIGHTS.npz IMAGE...");
            System.exit(2);
        }
        run(Path.of(args[0]), List.of(args).subList(1, args.length).stream().map(Path::of).toList(), System.out);
    }
}
