package io.kindling.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Token ids to the bytes they stand for, which structured output's automata read. */
class TokenBytesTest {

    private static final String TEXT = "héllo wörld, 日本 🦙 x";

    @Test
    void byteLevelTokensConcatenateToTheTextsUtf8() {
        try (Tokenizer tokenizer = Tokenizer.load(Fixtures.tokenizer("qwen3"))) {
            assertArrayEquals(TEXT.getBytes(StandardCharsets.UTF_8), concat(tokenizer, tokenizer.encode(TEXT, false)));
            assertNull(tokenizer.tokenBytes()[tokenizer.encode("<|im_end|>", false)[0]], "special tokens have none");
            assertFalse(tokenizer.stripsLeadingSpace());
        }
    }

    @Test
    void sentencePieceTokensAreSpacesForMetaspaceAndOneByteForByteFallback() {
        try (Tokenizer tokenizer = Tokenizer.load(Fixtures.tokenizer("llama2"))) {
            // the llama emoji is not in the vocabulary: it is four <0xNN> byte-fallback tokens; the prefix space
            // SentencePiece adds is the first token's leading "▁"
            assertArrayEquals((" " + TEXT).getBytes(StandardCharsets.UTF_8),
                    concat(tokenizer, tokenizer.encode(TEXT, false)));
            assertArrayEquals(new byte[] {(byte) 0xF0}, tokenizer.tokenBytes()[3 + 0xF0], "<0xF0> is id 243");
            assertNull(tokenizer.tokenBytes()[tokenizer.eosTokenId().orElseThrow()]);
            assertTrue(tokenizer.stripsLeadingSpace(), "its decoder strips the prefix space");
        }
    }

    private static byte[] concat(Tokenizer tokenizer, int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenizer.tokenBytes()[id]);
        }
        return out.toByteArray();
    }
}
