package io.kindling.tokenizer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Hugging Face tokenizer of a model directory ({@code tokenizer.json} + {@code tokenizer_config.json}), with its chat
 * template. Thread-safe.
 */
public final class Tokenizer implements AutoCloseable {

    /** @throws TokenizerException naming the file and the problem */
    public static Tokenizer load(Path modelDir) {
        throw new UnsupportedOperationException("TODO");
    }

    /** Encodes with the special tokens (BOS, ...) the tokenizer's configuration adds. */
    public int[] encode(String text) {
        return encode(text, true);
    }

    public int[] encode(String text, boolean addSpecialTokens) {
        throw new UnsupportedOperationException("TODO");
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        throw new UnsupportedOperationException("TODO");
    }

    public boolean hasChatTemplate() {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * Renders {@code messages} (each a map with {@code role}, {@code content}, ...) as transformers'
     * {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)} would.
     *
     * @throws TokenizerException when there is no template or it fails (raise_exception included)
     */
    public String applyChatTemplate(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        throw new UnsupportedOperationException("TODO");
    }

    /** The ids of the rendered conversation with a generation prompt; the template supplies special tokens. */
    public int[] encodeChat(List<Map<String, Object>> messages) {
        return encode(applyChatTemplate(messages, true), false);
    }

    /** A detokenizer for one sequence's generated tokens, given its prompt (for context-dependent spacing). */
    public IncrementalDetokenizer newDetokenizer(int[] promptTokenIds, boolean skipSpecialTokens) {
        throw new UnsupportedOperationException("TODO");
    }

    public OptionalInt bosTokenId() {
        throw new UnsupportedOperationException("TODO");
    }

    public OptionalInt eosTokenId() {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void close() {
    }
}
