package io.kindling.flink;

/** A row the engine could not serve, where nothing takes its error: fails the task with the row and its problem. */
public final class KindlingRowException extends RuntimeException {

    KindlingRowException(String message) {
        super(message);
    }
}
