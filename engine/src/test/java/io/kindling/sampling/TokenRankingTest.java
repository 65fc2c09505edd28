package io.kindling.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenRankingTest {

    @Test
    void keysOrderByLogitDescendingThenTokenId() {
        assertTrue(TokenRanking.key(1f, 5) < TokenRanking.key(0.5f, 1));
        assertTrue(TokenRanking.key(1f, 2) < TokenRanking.key(1f, 3));
        assertTrue(TokenRanking.key(-0.5f, 9) < TokenRanking.key(-2f, 0));
        assertTrue(TokenRanking.key(0f, 1) < TokenRanking.key(-0f, 2), "-0.0 ties with 0.0");
        assertTrue(TokenRanking.key(-0f, 1) < TokenRanking.key(0f, 2), "-0.0 ties with 0.0");
        assertTrue(TokenRanking.key(-1e30f, 5) < TokenRanking.key(Float.NEGATIVE_INFINITY, 0));
        assertTrue(TokenRanking.key(Float.POSITIVE_INFINITY, 7) < TokenRanking.key(Float.MAX_VALUE, 0));
        assertEquals(151_935, TokenRanking.tokenId(TokenRanking.key(-3.25f, 151_935)));
    }

    @Test
    void selectBestPutsTheBestKeysFirst() {
        Random random = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(3000);
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                // few distinct logits, so most keys are decided by the token id
                keys[i] = TokenRanking.key(random.nextInt(7) - 3f, i);
            }
            long[] sorted = keys.clone();
            Arrays.sort(sorted);
            int from = random.nextInt(n);
            int count = random.nextInt(n - from + 1);
            long[] expectedFront = Arrays.copyOfRange(rangeSorted(keys, from, n), 0, count);

            TokenRanking.selectBest(keys, from, n, count);

            long[] front = Arrays.copyOfRange(keys, from, from + count);
            Arrays.sort(front);
            assertArrayEquals(expectedFront, front, "n=" + n + " from=" + from + " count=" + count);
            long[] all = keys.clone();
            Arrays.sort(all);
            assertArrayEquals(sorted, all, "a permutation");
        }
    }

    private static long[] rangeSorted(long[] keys, int from, int to) {
        long[] range = Arrays.copyOfRange(keys, from, to);
        Arrays.sort(range);
        return range;
    }
}
