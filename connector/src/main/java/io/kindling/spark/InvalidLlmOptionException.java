package io.kindling.spark;

/** An {@code llm_generate} option that is unknown or has a bad value; names the option as the user spelled it. */
final class InvalidLlmOptionException extends IllegalArgumentException {

    InvalidLlmOptionException(String message) {
        super("llm_generate: " + message);
    }

    static InvalidLlmOptionException badValue(String spelledKey, String problem) {
        return new InvalidLlmOptionException("option '" + spelledKey + "' " + problem);
    }
}
