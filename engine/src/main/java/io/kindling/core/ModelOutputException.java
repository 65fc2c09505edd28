package io.kindling.core;

/**
 * The model computed logits that cannot be sampled (NaN or infinite): corrupt weights, or a precision overflow.
 * Not a request's fault, so the run stops.
 */
public class ModelOutputException extends RuntimeException {

    public ModelOutputException(Throwable cause) {
        super("the model's logits are not finite numbers (" + cause.getMessage()
                + "): are its weights corrupt?", cause);
    }
}
