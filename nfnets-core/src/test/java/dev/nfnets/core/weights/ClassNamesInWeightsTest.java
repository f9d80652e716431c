package dev.nfnets.core.weights;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassNamesInWeightsTest {
    private static NFNetConfig tiny(int classes) {
        return NFNetConfig.builder(NFNetConfig.mnist()).name("tiny").numClasses(classes).stem(new int[] {4, 8}, new int[] {2, 1})
                .stageWidths(8, 16).stageDepths(1, 1).stageStrides(1, 2).groupWidth(4).finalConvChannels(16).build();
    }

    @Test
    void nativeWeightsCarryTheClassNamesToTheClassifier(@TempDir Path dir) throws Exception {
        NFNet model = new NFNet(tiny(3), 1);
        List<String> names = List.of("T-shirt/top", "Ankle boot", "Bag");
        model.setClassNames(names);
        Path file = dir.resolve("weights.safetensors");
        Weights.save(model, file, WeightFormat.NATIVE);
        assertEquals(Optional.of(names), Weights.read(file).classNames());

        NFNet loaded = NFNets.load(dir);   // a run folder
        assertEquals(Optional.of(names), loaded.classNames());
        assertEquals(names, NFNets.classifier(loaded).classNames());
        // the config-plus-file path restores them too
        assertEquals(Optional.of(names), NFNets.load(tiny(3), file).classNames());
    }

    @Test
    void classesTxtBesideAFileWithoutNamesIsUsed(@TempDir Path dir) throws Exception {
        NFNet model = new NFNet(tiny(2), 1);   // no names
        Path file = dir.resolve("weights.safetensors");
        Weights.save(model, file, WeightFormat.NATIVE);
        assertTrue(NFNets.load(file).classNames().isEmpty());
        assertEquals(List.of("class 0", "class 1"), NFNets.classifier(NFNets.load(file)).classNames());
        Files.writeString(dir.resolve(NFNets.CLASSES_FILE), "cat\n\ndog\n");
        assertEquals(Optional.of(List.of("cat", "dog")), NFNets.load(file).classNames());
        Files.writeString(dir.resolve(NFNets.CLASSES_FILE), "cat\ndog\nbird\n");   // wrong count: not used
        assertTrue(NFNets.load(file).classNames().isEmpty());
    }

    @Test
    void namesAreCheckedAgainstTheModel() {
        NFNet model = new NFNet(tiny(2), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.setClassNames(List.of("a")));
        assertTrue(e.getMessage().contains("2 classes, got 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> model.setClassNames(List.of("a", "b\nc")));
    }

    @Test
    void knownConfigIsRecognisedFromTheTensorsAlone(@TempDir Path dir) throws Exception {
        NFNetConfig five = NFNetConfig.builder(NFNetConfig.mnist()).numClasses(5).inChannels(3).build();
        Path timm = dir.resolve("mnist5.safetensors");
        Weights.save(new NFNet(five, 2), timm, WeightFormat.TIMM);
        Optional<NFNetConfig> fit = Weights.knownConfigFor(Weights.read(timm));
        assertTrue(fit.isPresent());
        assertEquals("nfnet-mnist", fit.get().name());
        assertEquals(5, fit.get().numClasses());
        assertEquals(3, fit.get().inChannels());
        Path npz = dir.resolve("mnist.npz");
        Weights.save(new NFNet(NFNetConfig.mnist(), 2), npz, WeightFormat.DEEPMIND);
        assertEquals(NFNetConfig.mnist(), Weights.knownConfigFor(Weights.read(npz)).orElseThrow());
        Path custom = dir.resolve("tiny.safetensors");
        Weights.save(new NFNet(tiny(4), 2), custom, WeightFormat.TIMM);
        assertFalse(Weights.knownConfigFor(Weights.read(custom)).isPresent());
        // the tensor count agrees with a built model for every variant's plan
        assertEquals(new NFNet(NFNetConfig.mnist(), 1).namedParameters().size(), Weights.tensorCount(NFNetConfig.mnist()));
        assertEquals(new NFNet(tiny(4), 1).namedParameters().size(), Weights.tensorCount(tiny(4)));
    }
}
