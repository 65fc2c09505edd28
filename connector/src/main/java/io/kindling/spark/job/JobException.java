package io.kindling.spark.job;

/** A problem of the job's input, output or model, reported as one line with exit status 1. */
final class JobException extends RuntimeException {

    JobException(String message) {
        super(message);
    }

    JobException(String message, Throwable cause) {
        super(message, cause);
    }
}
