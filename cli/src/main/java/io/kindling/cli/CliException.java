package io.kindling.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/** A fatal problem of a command (the model, the input or the output), reported as one line, exit status 1. */
final class CliException extends RuntimeException {

    CliException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "cannot read input in.jsonl: no such file", from the exception's kind rather than its bare path. */
    static CliException io(String what, Path path, IOException e) {
        return new CliException("cannot " + what + " " + path + ": " + reason(e), e);
    }

    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        } else if (e instanceof AccessDeniedException) {
            return "permission denied";
        } else if (e instanceof NotDirectoryException) {
            return "not a directory";
        } else if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
