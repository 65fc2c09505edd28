package io.kindling.structured;

/** A constraint that cannot be compiled: names its kind (json_schema, regex, ...) and what is wrong. */
public class StructuredOutputException extends IllegalArgumentException {

    private final String kind;
    private final String problem;

    public StructuredOutputException(String kind, String problem) {
        super("invalid " + kind + ": " + problem);
        this.kind = kind;
        this.problem = problem;
    }

    public String kind() {
        return kind;
    }

    public String problem() {
        return problem;
    }
}
