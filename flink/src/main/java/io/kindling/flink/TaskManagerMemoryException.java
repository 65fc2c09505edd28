package io.kindling.flink;

/** The model and its KV cache do not fit the TaskManager's heap: says which settings to change. */
public final class TaskManagerMemoryException extends RuntimeException {

    TaskManagerMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
