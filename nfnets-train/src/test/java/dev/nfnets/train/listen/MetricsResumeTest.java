package dev.nfnets.train.listen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** After kill -9 and resume, every step appears once in the metrics files. */
class MetricsResumeTest {
    @Test
    void rowsAfterTheCheckpointAndHalfWrittenRowsAreDroppedOnResume(@TempDir Path dir) throws Exception {
        Path steps = dir.resolve(CsvMetricsListener.STEPS_FILE);
        Path epochs = dir.resolve(CsvMetricsListener.EPOCHS_FILE);
        StringBuilder sb = new StringBuilder("step,epoch,loss\n");
        for (int s = 1; s <= 50; s++) {
            sb.append(s).append(",1,0.5\n");
        }
        sb.append("51,1");   // cut by the kill
        Files.writeString(steps, sb.toString());
        Files.writeString(epochs, "epoch,step,train_loss\n1,20,0.5\n2,40,0.4\n3,60,0.3\n");
        CsvMetricsListener l = new CsvMetricsListener(dir);
        l.onStart(19, 100);   // the checkpoint was at step 19
        l.onStep(new StepMetrics(20, 100, 0, 0.4, 0.5, 0.1, 10, 0, 0, 1));
        l.onEnd(20, null);
        List<String> lines = Files.readAllLines(steps);
        assertEquals(21, lines.size(), String.join("\n", lines));   // header + steps 1..20, once each
        assertEquals("19,1,0.5", lines.get(19));
        assertEquals("20", lines.get(20).split(",")[0]);
        assertEquals(List.of("epoch,step,train_loss"), Files.readAllLines(epochs).subList(0, 1));
        assertEquals(1, Files.readAllLines(epochs).size());   // epoch rows at steps 20..60 came after the checkpoint
        // a run starting at step 0 (e.g. --overwrite) starts the files afresh
        CsvMetricsListener fresh = new CsvMetricsListener(dir);
        fresh.onStart(0, 100);
        fresh.onEnd(0, null);
        assertEquals(1, Files.readAllLines(steps).size());
    }
}
