package io.kindling.sampling;

/** A sampling parameter out of range; names the parameter as the JSONL field spells it. */
public class InvalidSamplingParamException extends IllegalArgumentException {

    private final String param;
    private final String problem;

    public InvalidSamplingParamException(String param, String problem) {
        super("invalid " + param + ": " + problem);
        this.param = param;
        this.problem = problem;
    }

    public String param() {
        return param;
    }

    /** What is wrong with the value, without the parameter: for a message that names the option its own way. */
    public String problem() {
        return problem;
    }
}
