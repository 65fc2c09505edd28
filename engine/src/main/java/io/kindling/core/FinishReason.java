package io.kindling.core;

import java.util.Locale;

/** Why a request ended, as the output's {@code finish_reason} spells it. */
public enum FinishReason {
    /** EOS, a stop token id or a stop string. */
    STOP,
    /** {@code max_tokens} reached, or the model's context is full. */
    LENGTH,
    /** The request could not be served; the output carries the error. */
    ERROR,
    /** The caller dropped the request before it finished. */
    ABORT;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
