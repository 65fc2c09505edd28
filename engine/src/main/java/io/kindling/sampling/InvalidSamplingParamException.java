package io.kindling.sampling;

import io.kindling.options.InvalidInputException;

/**
 * A sampling parameter out of range. Carries the parameter as the JSONL field spells it, the value given and the
 * requirement it broke, so that each front end names the option its own way (a flag, a map key) without taking this
 * message apart. Its {@link #problem()} is the requirement and the value: {@code must be in [0, 1], got 1.5}.
 */
public class InvalidSamplingParamException extends InvalidInputException {

    private final Object value;
    private final String requirement;

    /** {@code value} null: the parameter's mere presence is the problem (e.g. stop strings with beam search). */
    public InvalidSamplingParamException(String param, Object value, String requirement) {
        this(param, value, requirement, value == null ? requirement : requirement + ", got " + value);
    }

    private InvalidSamplingParamException(String param, Object value, String requirement, String problem) {
        super("invalid " + param + ": " + problem, param, problem);
        this.value = value;
        this.requirement = requirement;
    }

    public String param() {
        return subject();
    }

    /** The value given, or null where the parameter's presence is the problem. */
    public Object value() {
        return value;
    }

    /** What the value must satisfy, e.g. {@code must be in [0, 1]}. */
    public String requirement() {
        return requirement;
    }
}
