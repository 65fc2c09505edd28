package io.kindling.structured;

import java.util.Objects;

/**
 * The model's tokens as the bytes they stand for, which is what a constraint's automaton reads.
 *
 * @param tokenBytes per token id, its bytes; null for a token never allowed under a constraint (special tokens)
 * @param size the logits row width (the model's vocab_size, which may exceed the tokenizer's)
 * @param endTokenIds the tokens that end a sequence (EOS): allowed exactly in accepting states
 * @param stripsLeadingSpace whether decoding drops the first space of a generated text (SentencePiece): the first
 *     token may then not start with a space, or the text would lack a byte the automaton read
 */
public record TokenVocabulary(byte[][] tokenBytes, int size, int[] endTokenIds, boolean stripsLeadingSpace) {

    public TokenVocabulary {
        Objects.requireNonNull(tokenBytes, "tokenBytes");
        endTokenIds = endTokenIds.clone();
        if (size < 1) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + size);
        }
    }

    /** A vocabulary whose decoding keeps every byte. */
    public TokenVocabulary(byte[][] tokenBytes, int size, int[] endTokenIds) {
        this(tokenBytes, size, endTokenIds, false);
    }

    /** Words of a bitmask over the vocabulary: bit {@code id & 31} of word {@code id >> 5} allows token {@code id}. */
    public int maskWords() {
        return (size + 31) >>> 5;
    }

    boolean isEnd(int tokenId) {
        for (int id : endTokenIds) {
            if (id == tokenId) {
                return true;
            }
        }
        return false;
    }
}
