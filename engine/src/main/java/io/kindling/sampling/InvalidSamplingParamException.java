package io.kindling.sampling;

/**
 * A sampling parameter out of range. Carries the parameter as the JSONL field spells it, the value given and the
 * requirement it broke, so that each front end names the option its own way (a flag, a map key) without taking this
 * message apart.
 */
public class InvalidSamplingParamException extends IllegalArgumentException {

    private final String param;
    private final Object value;
    private final String requirement;

    /** {@code value} null: the parameter's mere presence is the problem (e.g. stop strings with beam search). */
    public InvalidSamplingParamException(String param, Object value, String requirement) {
        super("invalid " + param + ": " + clause(value, requirement));
        this.param = param;
        this.value = value;
        this.requirement = requirement;
    }

    public String param() {
        return param;
    }

    /** The value given, or null where the parameter's presence is the problem. */
    public Object value() {
        return value;
    }

    /** What the value must satisfy, e.g. {@code must be in [0, 1]}. */
    public String requirement() {
        return requirement;
    }

    /** The requirement and the value, without the parameter: {@code must be in [0, 1], got 1.5}. */
    public String problem() {
        return clause(value, requirement);
    }

    private static String clause(Object value, String requirement) {
        return value == null ? requirement : requirement + ", got " + value;
    }
}
