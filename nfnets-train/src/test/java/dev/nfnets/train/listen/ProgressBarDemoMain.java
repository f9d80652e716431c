package dev.nfnets.train.listen;

import org.slf4j.LoggerFactory;

/**
 * Drives a {@link ProgressBarListener} made as the command line makes it (bar on System.err, the terminal's width)
 * through 40 steps of 2 epochs with a log line and a line of standard output per epoch; run by
 * {@link ProgressBarListenerTest} inside a pseudo-terminal.
 */
public final class ProgressBarDemoMain {
    private ProgressBarDemoMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        ProgressBarListener bar = new ProgressBarListener();
        bar.onStart(0, 40);
        for (int step = 1; step <= 40; step++) {
            int epoch = (step - 1) / 20;
            bar.onStep(new StepMetrics(step, 40, epoch, 2.0 / step, step / 40.0, 0.1, 500, 0, 0, step * 0.01));
            Thread.sleep(5);
            if (step % 20 == 0) {
                LoggerFactory.getLogger("dev.nfnets.train").info("epoch {} done: test (EMA) top-1 8{}.00%", epoch + 1, epoch);
                System.out.println("stdout line " + (epoch + 1));
            }
        }
        bar.onEnd(40, null);
        System.out.println("final result");
    }
}
