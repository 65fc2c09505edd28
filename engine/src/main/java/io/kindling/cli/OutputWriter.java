package io.kindling.cli;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/** Where output rows go, in input order: JSONL or Arrow IPC, chosen by the output path's extension. */
interface OutputWriter extends Closeable {

    void write(OutputRow row) throws IOException;

    /** Makes the rows written so far visible to readers of the file, where the format allows. */
    void flush() throws IOException;

    static OutputWriter open(Path path, IdKind idKind) throws IOException {
        return switch (FileFormat.of(path)) {
            case JSONL -> new JsonlOutput(path);
            case ARROW_FILE -> new ArrowOutput(path, idKind, false);
            case ARROW_STREAM -> new ArrowOutput(path, idKind, true);
        };
    }
}
