package io.kindling.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.testing.Fixtures;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IncrementalDetokenizerTest {

    /** Emoji, CJK, accents and a ZWJ sequence: byte-level and byte-fallback tokenizers split these across tokens. */
    private static final String TEXT = " Hello 😀 world! 你好，世界。 Ça va? 👩‍👩‍👧 naïve café , do n't stop .";

    @ParameterizedTest
    @ValueSource(strings = {"llama3_1", "llama2", "qwen3"})
    void tokensOneAtATimeNeverBreakACharacterAndAddUpToDecode(String name) {
        try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer(name))) {
            int[] ids = t.encode(TEXT, false);
            assertTrue(splitsACharacter(t, ids), name + ": the text should put some character across tokens");
            for (boolean skip : new boolean[] {true, false}) {
                assertStreamsExactly(t, ids, skip);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3_1", "llama2", "qwen3"})
    void specialTokensInTheOutputAreKeptOrSkippedAsDecodeDoes(String name) {
        try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer(name))) {
            int eos = t.eosTokenId().orElseThrow();
            int[] text = t.encode("Answer: 42 🎉", false);
            int[] ids = IntStream.concat(IntStream.concat(IntStream.of(eos), Arrays.stream(text)), IntStream.of(eos))
                    .toArray();
            for (boolean skip : new boolean[] {true, false}) {
                assertStreamsExactly(t, ids, skip);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3_1", "llama2", "qwen3"})
    void outputCutInsideACharacterEndsAsDecodeDoes(String name) {
        try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer(name))) {
            int[] ids = t.encode(TEXT, false);
            int cutCount = 0;
            for (int n = 1; n <= ids.length; n++) {
                int[] cut = Arrays.copyOf(ids, n);
                String decoded = t.decode(cut, true);
                if (!decoded.endsWith("\uFFFD")) {
                    continue;
                }
                cutCount++;
                IncrementalDetokenizer d = t.newDetokenizer(new int[0], true);
                StringBuilder streamed = new StringBuilder();
                for (int id : cut) {
                    streamed.append(d.append(id));
                }
                assertEquals(decoded, d.text(), name);
                assertFalse(streamed.toString().contains("\uFFFD"), name);
                assertTrue(decoded.startsWith(streamed.toString()), name);
            }
            assertTrue(cutCount > 0, name + ": no prefix of the ids ends inside a character");
        }
    }

    private static void assertStreamsExactly(Tokenizer t, int[] ids, boolean skip) {
        IncrementalDetokenizer d = t.newDetokenizer(new int[] {1, 2, 3}, skip);
        StringBuilder streamed = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            String piece = d.append(ids[i]);
            assertFalse(piece.contains("\uFFFD"), "piece " + i + " has U+FFFD: " + piece);
            streamed.append(piece);
            String decodedSoFar = t.decode(Arrays.copyOf(ids, i + 1), skip);
            assertEquals(decodedSoFar, d.text(), "text() after " + (i + 1) + " tokens");
            assertTrue(decodedSoFar.startsWith(streamed.toString()), "streamed text is a prefix of decode");
        }
        assertEquals(t.decode(ids, skip), streamed.toString());
        assertEquals(t.decode(ids, skip), d.text());
    }

    private static boolean splitsACharacter(Tokenizer t, int[] ids) {
        for (int id : ids) {
            if (t.decode(new int[] {id}, true).contains("\uFFFD")) {
                return true;
            }
        }
        return false;
    }
}
