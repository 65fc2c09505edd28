package io.kindling.tokenizer;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Prompts refused from their length alone: never one that fits, always a huge one, before tokenizing it. */
class TokenBoundTest {

    /**
     * Per tokenizer, the most bytes a token may stand for: its longest UTF-8 spelling (llama2: 16 × "▁", 3 bytes
     * each; llama3_1: 128 × "Ġ", 2 bytes each), times 3 where an NFC normalizer may shrink the text (qwen3).
     */
    @ParameterizedTest
    @CsvSource({"llama2, 48", "llama3_1, 256", "qwen3, 768"})
    void refusesAHugePromptButNoReferenceTextThatFits(String name, int bytesPerToken) throws IOException {
        JsonNode reference = new ObjectMapper().readTree(
                Fixtures.resource("tokenizers/" + name + "/reference.json").toFile());
        try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer(name))) {
            List<Executable> checks = new ArrayList<>();
            for (JsonNode entry : reference.path("encode")) {
                String text = entry.get("text").asText();
                int tokens = t.encode(text).length;
                // a context of exactly one token more than the prompt has must accept it
                checks.add(() -> assertEquals(tokens, t.encodePrompt(text, tokens + 1).length, text));
            }
            assertAll(name, checks);

            String huge = "word ".repeat(2_000_000); // 10 MB
            PromptTooLongException e = assertThrows(PromptTooLongException.class, () -> t.encodePrompt(huge, 512));
            long minTokens = (10_000_000L + bytesPerToken - 1) / bytesPerToken;
            assertEquals("prompt is 10000000 bytes, so at least " + minTokens + " tokens, more than the 511 that "
                    + "fit the model's context", e.getMessage());
        }
    }
}
