package io.kindling.cli;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.OptionalLong;

/**
 * Input rows read one at a time, never the whole file at once: JSONL or Arrow IPC, chosen by the path's extension.
 * Read errors surface as {@link java.io.UncheckedIOException} from {@code hasNext}/{@code next}.
 */
interface InputSource extends Iterator<RawRow>, Closeable {

    /** The number of rows, where it is cheap to know up front. */
    OptionalLong rowCount();

    /** The kind of the ids this input carries, for an Arrow output's id column. */
    IdKind idKind();

    static InputSource open(Path path) throws IOException {
        return switch (FileFormat.of(path)) {
            case JSONL -> new JsonlInput(path);
            case ARROW_FILE -> new ArrowInput(path, false);
            case ARROW_STREAM -> new ArrowInput(path, true);
        };
    }
}
