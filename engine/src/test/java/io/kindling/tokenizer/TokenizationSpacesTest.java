package io.kindling.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenizationSpacesTest {

    @Test
    void cleansLikeTransformers() {
        assertEquals("Hi, there. Why? No! I'm sure it's'ok'-ish; don't, we've, they're'",
                TokenizationSpaces.clean("Hi , there . Why ? No ! I 'm sure it 's ' ok ' -ish; do n't , we 've ,"
                        + " they 're ' "));
    }

    /** Cleaning chunk by chunk up to the stable prefix, then the rest, equals cleaning the whole text at once. */
    @Test
    void chunkedCleaningEqualsWholeCleaning() {
        Random random = new Random(7);
        char[] alphabet = {' ', ' ', ' ', '\'', 'n', 't', 'm', 's', 'v', 'e', 'r', '.', ',', '?', '!', 'a'};
        for (int round = 0; round < 20000; round++) {
            StringBuilder whole = new StringBuilder();
            StringBuilder out = new StringBuilder();
            String held = "";
            int chunks = 1 + random.nextInt(8);
            for (int c = 0; c < chunks; c++) {
                StringBuilder chunk = new StringBuilder();
                for (int k = random.nextInt(4); k >= 0; k--) {
                    chunk.append(alphabet[random.nextInt(alphabet.length)]);
                }
                whole.append(chunk);
                held += chunk;
                int stable = TokenizationSpaces.stablePrefixLength(held);
                out.append(TokenizationSpaces.clean(held.substring(0, stable)));
                held = held.substring(stable);
            }
            out.append(TokenizationSpaces.clean(held));
            assertEquals(TokenizationSpaces.clean(whole.toString()), out.toString(), "raw: [" + whole + "]");
        }
    }
}
