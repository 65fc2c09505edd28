package io.kindling.tokenizer;

import java.util.Locale;

/** A prompt whose length alone proves it cannot fit the context, refused before it was tokenized. */
public class PromptTooLongException extends TokenizerException {

    public PromptTooLongException(long bytes, long minTokens, int maxTokens) {
        super(String.format(Locale.ROOT, "prompt is %d bytes, so at least %d tokens, more than the %d that fit the "
                + "model's context", bytes, minTokens, maxTokens));
    }
}
