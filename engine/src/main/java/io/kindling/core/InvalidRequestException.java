package io.kindling.core;

import io.kindling.options.InvalidInputException;

/**
 * A request the engine cannot serve (empty prompt, prompt longer than the context, ...); names the request, and its
 * {@link #problem()} leaves it out for a message that names the row its own way.
 */
public class InvalidRequestException extends InvalidInputException {

    public InvalidRequestException(String requestId, String problem) {
        super("request " + requestId + ": " + problem, requestId, problem);
    }

    public String requestId() {
        return subject();
    }
}
