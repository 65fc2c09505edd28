package io.kindling.core;

/** A request the engine cannot serve (empty prompt, prompt longer than the context, ...); names the request. */
public class InvalidRequestException extends IllegalArgumentException {

    private final String requestId;
    private final String problem;

    public InvalidRequestException(String requestId, String problem) {
        super("request " + requestId + ": " + problem);
        this.requestId = requestId;
        this.problem = problem;
    }

    public String requestId() {
        return requestId;
    }

    /** What is wrong, without the request: for a message that names the row its own way. */
    public String problem() {
        return problem;
    }
}
