package io.kindling.cli;

import io.kindling.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;

/** The prompt of one input row, in whichever of the three forms the row gave it. */
sealed interface Prompt {

    /**
     * The prompt's token ids; a text that could not fit {@code maxModelLen} tokens is refused before tokenizing.
     *
     * @throws io.kindling.tokenizer.TokenizerException when it cannot be tokenized (or is too long to try)
     */
    int[] tokenize(Tokenizer tokenizer, int maxModelLen);

    /** {@code prompt}: plain text, encoded with the tokenizer's special tokens. */
    record Text(String text) implements Prompt {
        @Override
        public int[] tokenize(Tokenizer tokenizer, int maxModelLen) {
            return tokenizer.encodePrompt(text, maxModelLen);
        }
    }

    /** {@code prompt_token_ids}: already tokenized, checked against the vocabulary when parsed. */
    record TokenIds(int[] ids) implements Prompt {
        @Override
        public int[] tokenize(Tokenizer tokenizer, int maxModelLen) {
            return ids;
        }
    }

    /** {@code messages}: a conversation rendered with the model's chat template. */
    record Chat(List<Map<String, Object>> messages) implements Prompt {
        @Override
        public int[] tokenize(Tokenizer tokenizer, int maxModelLen) {
            return tokenizer.encodeChat(messages, maxModelLen);
        }
    }
}
