package io.kindling.core;

/** The engine's loop stopped on an error; every request it held fails with this, the cause attached. */
public class EngineFailedException extends RuntimeException {

    public EngineFailedException(Throwable cause) {
        super("the inference engine failed: " + cause.getMessage(), cause);
    }
}
