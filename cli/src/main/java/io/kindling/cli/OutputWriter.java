package io.kindling.cli;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/** Where output rows go, in input order: JSONL or Arrow IPC, chosen by the output path's extension. */
interface OutputWriter extends Closeable {

    void write(OutputRow row) throws IOException;

    /** Makes the rows written so far visible to readers of the file, where the format allows. */
    void flush() throws IOException;

    /**
     * A writer of {@code format} onto {@code path} (which may be another name than the format's, as a partial
     * file is); {@code append} continues a JSONL file after its last row.
     */
    static OutputWriter open(Path path, FileFormat format, IdKind idKind, boolean append) throws IOException {
        if (append && format != FileFormat.JSONL) {
            throw new IllegalArgumentException("only JSONL output can be appended to, not " + format);
        }
        return switch (format) {
            case JSONL -> new JsonlOutput(path, append);
            case ARROW_FILE -> new ArrowOutput(path, idKind, false);
            case ARROW_STREAM -> new ArrowOutput(path, idKind, true);
        };
    }
}
