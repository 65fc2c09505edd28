package io.kindling.tokenizer;

/** Turns one sequence's generated tokens into text as they arrive, never splitting a multi-byte character. */
public final class IncrementalDetokenizer {

    /** Adds a token; returns the text it completes (possibly empty while a character is still partial). */
    public String append(int tokenId) {
        throw new UnsupportedOperationException("TODO");
    }

    /** All text decoded so far. */
    public String text() {
        throw new UnsupportedOperationException("TODO");
    }
}
