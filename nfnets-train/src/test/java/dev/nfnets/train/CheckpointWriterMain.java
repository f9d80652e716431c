package dev.nfnets.train;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.layers.optim.Sgd;

import java.nio.file.Files;
import java.nio.file.Path;

/** Child process for the kill -9 test: saves checkpoints of a ~40 MB model in a loop until killed. */
public final class CheckpointWriterMain {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        NFNetConfig big = NFNetConfig.builder(NFNetConfig.mnist()).name("big").stageWidths(256, 512, 1024)
                .finalConvChannels(2048).build();
        NFNet model = new NFNet(big);
        TrainingConfig tc = TrainingConfig.builder(big).build();
        Sgd sgd = Sgd.builder().build();
        Path file = dir.resolve(Trainer.CHECKPOINT_FILE);
        for (long step = 1; ; step++) {
            model.namedParameters().values().iterator().next().value().addi(1);   // content changes every save
            Checkpoint.save(file, step, tc, model, sgd, null);
            Files.writeString(dir.resolve("saved-" + step), "");
        }
    }
}
