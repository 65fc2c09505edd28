package io.kindling.tokenizer;

import java.util.Arrays;

/**
 * Turns one sequence's generated tokens into text as they arrive, never splitting a multi-byte character.
 *
 * <p>As vLLM's incremental detokenization: each step decodes only the window {@code [prefixOffset, n)} and the
 * already-emitted part {@code [prefixOffset, readOffset)}; the difference is new text, released only when it
 * does not end in U+FFFD (a character whose bytes have not all arrived). Decoding the preceding tokens along
 * with the new ones keeps context-dependent decoders (SentencePiece's leading-space strip) exact. When the
 * config asks for transformers' clean-up of tokenization spaces, text that a later token could still change
 * (a trailing " " before a possible " ." or " n't") is held back, so the concatenation of what
 * {@link #append} returns is always a prefix of the final {@code decode(ids, skipSpecialTokens)}.
 */
public final class IncrementalDetokenizer {

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids = new int[16];
    private int size;
    private int prefixOffset;
    private int readOffset;
    /** Decoded but not yet released because the clean-up could still change it. */
    private String held = "";
    private final StringBuilder released = new StringBuilder();

    IncrementalDetokenizer(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds a token; returns the text it completes (possibly empty while a character is still partial). */
    public String append(int tokenId) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = tokenId;
        String prefixText = tokenizer.decodeRaw(ids, prefixOffset, readOffset, skipSpecialTokens);
        String windowText = tokenizer.decodeRaw(ids, prefixOffset, size, skipSpecialTokens);
        if (windowText.length() <= prefixText.length() || windowText.endsWith("\uFFFD")) {
            return "";
        }
        held += windowText.substring(prefixText.length());
        prefixOffset = readOffset;
        readOffset = size;
        return release();
    }

    private String release() {
        String out;
        if (tokenizer.cleansUpTokenizationSpaces()) {
            int stable = TokenizationSpaces.stablePrefixLength(held);
            out = TokenizationSpaces.clean(held.substring(0, stable));
            held = held.substring(stable);
        } else {
            out = held;
            held = "";
        }
        released.append(out);
        return out;
    }

    /**
     * All text decoded so far: what {@link #append} released plus what is still held back (an incomplete
     * character decodes to U+FFFD here, as in {@code decode}). Equals {@code decode(ids, skipSpecialTokens)}.
     */
    public String text() {
        String prefixText = tokenizer.decodeRaw(ids, prefixOffset, readOffset, skipSpecialTokens);
        String windowText = tokenizer.decodeRaw(ids, prefixOffset, size, skipSpecialTokens);
        String pending = held + windowText.substring(Math.min(prefixText.length(), windowText.length()));
        return released + (tokenizer.cleansUpTokenizationSpaces() ? TokenizationSpaces.clean(pending) : pending);
    }
}
