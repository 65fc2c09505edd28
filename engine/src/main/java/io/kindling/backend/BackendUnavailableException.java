package io.kindling.backend;

/** The requested device cannot be used; says why. Never answered by silently using another device. */
public class BackendUnavailableException extends RuntimeException {

    public BackendUnavailableException(String message) {
        super(message);
    }
}
