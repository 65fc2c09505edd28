package io.kindling.sampling;

/** A sampling parameter out of range; names the parameter as the JSONL field spells it. */
public class InvalidSamplingParamException extends IllegalArgumentException {

    private final String param;

    public InvalidSamplingParamException(String param, String problem) {
        super("invalid " + param + ": " + problem);
        this.param = param;
    }

    public String param() {
        return param;
    }
}
