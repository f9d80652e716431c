package dev.nfnets.train.data;

/** Which part of a dataset with a fixed train/test split to load. */
public enum Split {
    TRAIN("train"),
    TEST("test");

    private final String displayName;

    Split(String displayName) {
        this.displayName = displayName;
    }

    /** Lower-case name used in messages ("train", "test"). */
    public String displayName() {
        return displayName;
    }
}
