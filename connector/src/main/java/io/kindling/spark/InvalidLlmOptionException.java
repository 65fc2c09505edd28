package io.kindling.spark;

import io.kindling.runtime.InvalidOptionException;

/** An {@code llm_generate} option that is unknown or has a bad value; names the option as the user spelled it. */
final class InvalidLlmOptionException extends InvalidOptionException {

    private final String detail;

    InvalidLlmOptionException(String detail) {
        this(null, detail, detail);
    }

    private InvalidLlmOptionException(String key, String problem, String detail) {
        super(key, problem, "llm_generate: " + detail);
        this.detail = detail;
    }

    /** An error of the shared option reader, as {@code llm_generate} reports it. */
    static InvalidLlmOptionException of(InvalidOptionException e) {
        return e instanceof InvalidLlmOptionException l ? l
                : new InvalidLlmOptionException(e.key(), e.problem(), e.getMessage());
    }

    /** What is wrong, naming the option, without the function's name: for a row's error, which names the row. */
    String detail() {
        return detail;
    }
}
