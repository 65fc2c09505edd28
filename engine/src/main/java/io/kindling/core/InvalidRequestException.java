package io.kindling.core;

/** A request the engine cannot serve (empty prompt, prompt longer than the context, ...); names the request. */
public class InvalidRequestException extends IllegalArgumentException {

    private final String requestId;

    public InvalidRequestException(String requestId, String problem) {
        super("request " + requestId + ": " + problem);
        this.requestId = requestId;
    }

    public String requestId() {
        return requestId;
    }
}
