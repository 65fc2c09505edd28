package io.kindling.spark;

/** A row the engine could not serve, with onError=fail: fails the task, naming the row and its problem. */
final class LlmRowException extends RuntimeException {

    LlmRowException(String message) {
        super(message);
    }
}
