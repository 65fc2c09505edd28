package io.kindling.model;

import java.nio.file.Path;

/** A checkpoint that cannot be loaded: names the file and the problem. */
public class ModelLoadException extends RuntimeException {

    private final Path file;

    public ModelLoadException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelLoadException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
