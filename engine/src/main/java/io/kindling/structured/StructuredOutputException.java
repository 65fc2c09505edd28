package io.kindling.structured;

import io.kindling.options.InvalidInputException;

/** A constraint that cannot be compiled: names its kind (json_schema, regex, ...) and what is wrong. */
public class StructuredOutputException extends InvalidInputException {

    public StructuredOutputException(String kind, String problem) {
        super("invalid " + kind + ": " + problem, kind, problem);
    }

    public String kind() {
        return subject();
    }
}
