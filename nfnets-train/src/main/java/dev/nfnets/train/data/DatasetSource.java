package dev.nfnets.train.data;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A serialisable recipe for opening a {@link Dataset} where the data lives: a data-parallel worker (a Spark
 * executor) receives the recipe, not the examples, and opens the files itself. Two equal sources open equal
 * datasets, so a worker may keep one opened dataset per source for the life of its JVM.
 *
 * <pre>{@code
 * DatasetSource train = DatasetSource.fashionMnist(Split.TRAIN, Path.of("/data/fashion-mnist"));
 * Dataset d = train.open();
 * }</pre>
 */
public interface DatasetSource extends Serializable {
    /** Opens (reads the index of, or loads) the dataset; called once per worker JVM. */
    Dataset open();

    /**
     * Fashion-MNIST's {@code split} from {@code dirOrNull} when given, else the system copy, else the embedded
     * subset ({@link FashionMnist#load}). The folder must exist at the same path on every worker.
     */
    static DatasetSource fashionMnist(Split split, Path dirOrNull) {
        return new FashionMnistSource(split, dirOrNull == null ? null : dirOrNull.toAbsolutePath().toString());
    }

    /** An image folder (one sub-folder per class) at the same path on every worker, read with {@code options}. */
    static DatasetSource imageFolder(Path root, ImageFolderDataset.Options options) {
        return new ImageFolderSource(root.toAbsolutePath().toString(), options);
    }

    /** See {@link #fashionMnist}. */
    record FashionMnistSource(Split split, String dir) implements DatasetSource {
        private static final long serialVersionUID = 1L;

        public FashionMnistSource {
            Objects.requireNonNull(split, "split");
        }

        @Override
        public Dataset open() {
            return FashionMnist.load(split, dir == null ? null : Path.of(dir));
        }
    }

    /** See {@link #imageFolder}. */
    record ImageFolderSource(String root, ImageFolderDataset.Options options) implements DatasetSource {
        private static final long serialVersionUID = 1L;

        public ImageFolderSource {
            Objects.requireNonNull(root, "root");
            Objects.requireNonNull(options, "options");
        }

        @Override
        public Dataset open() {
            return ImageFolderDataset.open(Path.of(root), options);
        }
    }
}
