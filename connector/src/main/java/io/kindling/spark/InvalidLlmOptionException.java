package io.kindling.spark;

import io.kindling.runtime.InvalidOptionException;

/** An {@code llm_generate} option that is unknown or has a bad value; names the option as the user spelled it. */
final class InvalidLlmOptionException extends InvalidOptionException {

    private final String problem;

    InvalidLlmOptionException(String problem) {
        super("llm_generate: " + problem);
        this.problem = problem;
    }

    /** An error of the shared option reader, as {@code llm_generate} reports it. */
    static InvalidLlmOptionException of(InvalidOptionException e) {
        return e instanceof InvalidLlmOptionException l ? l : new InvalidLlmOptionException(e.getMessage());
    }

    /** What is wrong, naming the option, without the function's name: for a row's error, which names the row. */
    String problem() {
        return problem;
    }
}
