package io.kindling.backend;

import io.kindling.options.InvalidInputException;

/**
 * A {@code tensor_parallel_size} this model or device cannot be split by: the message names the option, its value
 * and the model's value it does not fit, so that a front end can name its own spelling of the option.
 */
public class TensorParallelException extends InvalidInputException {

    /** The option at fault, as {@code EngineConfig} spells it. */
    public static final String SETTING = "tensor_parallel_size";

    public TensorParallelException(String problem) {
        super(SETTING + ": " + problem, SETTING, problem);
    }

    /** Always {@link #SETTING}. */
    public String setting() {
        return subject();
    }
}
