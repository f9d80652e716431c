package dev.nfnets.train;

/** Training produced a non-finite loss or parameter; names the step and what went wrong first. */
public class DivergenceException extends IllegalStateException {
    private final long step;
    private final String what;

    public DivergenceException(long step, String what, double value) {
        super("training diverged at step " + step + ": " + what + " is " + value
                + " (the last checkpoint, if any, is intact: continue from it with --resume and a lower --lr or a smaller"
                + " --clipping, which a resume accepts when given explicitly)");
        this.step = step;
        this.what = what;
    }

    public long step() {
        return step;
    }

    /** "loss" or "parameter &lt;name&gt;". */
    public String what() {
        return what;
    }
}
