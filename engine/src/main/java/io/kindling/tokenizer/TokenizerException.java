package io.kindling.tokenizer;

/** A tokenizer file that cannot be loaded, or a chat template that cannot be rendered. */
public class TokenizerException extends RuntimeException {

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
