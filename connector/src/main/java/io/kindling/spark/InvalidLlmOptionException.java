package io.kindling.spark;

/** An {@code llm_generate} option that is unknown or has a bad value; names the option as the user spelled it. */
final class InvalidLlmOptionException extends IllegalArgumentException {

    private final String problem;

    InvalidLlmOptionException(String problem) {
        super("llm_generate: " + problem);
        this.problem = problem;
    }

    static InvalidLlmOptionException badValue(String spelledKey, String problem) {
        return new InvalidLlmOptionException("option '" + spelledKey + "' " + problem);
    }

    /** What is wrong, naming the option, without the function's name: for a row's error, which names the row. */
    String problem() {
        return problem;
    }
}
