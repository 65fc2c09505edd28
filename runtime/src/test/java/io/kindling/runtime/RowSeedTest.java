package io.kindling.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RowSeedTest {

    /**
     * Pinned: a change here changes every seeded Spark and Flink job's output, so it must be deliberate. The values
     * were checked against an independent Python implementation of the same definition.
     */
    @Test
    void valuesArePinned() {
        assertEquals(2481101778697421544L, RowSeeds.of(0, "apple:", null));
        assertEquals(-101696652873745590L, RowSeeds.of(42, "apple:", null));
        assertEquals(8660825735030325766L, RowSeeds.of(42, "apple:", "row-17"));
        assertEquals(5389392687825388133L, RowSeeds.of(-1, "", ""));
        assertEquals(740878931667362930L, RowSeeds.of(7, "définir « lumière » 光", null));
    }

    @Test
    void seedPromptAndKeyEachChangeTheValue() {
        List<Long> seeds = List.of(
                RowSeeds.of(42, "apple:", null),
                RowSeeds.of(43, "apple:", null),
                RowSeeds.of(42, "apple;", null),
                RowSeeds.of(42, "apple:", ""),
                RowSeeds.of(42, "apple:", "k1"),
                RowSeeds.of(42, "apple:", "k2"),
                // where the prompt ends and the key begins matters
                RowSeeds.of(42, "apple", ":k1"),
                RowSeeds.of(42, "apple:k", "1"),
                // a difference past the first eight-byte word, and one in the zero-padded tail
                RowSeeds.of(42, "a long prompt, word 1", null),
                RowSeeds.of(42, "a long prompt, word 2", null),
                RowSeeds.of(42, "a long prompt, word 2\0", null));
        assertEquals(seeds.size(), new HashSet<>(seeds).size(), seeds.toString());
    }

    @Test
    void valuesSpreadOverAllBits() {
        Set<Long> distinct = new HashSet<>();
        long orOfAll = 0;
        long andOfAll = -1;
        for (int i = 0; i < 1000; i++) {
            long s = RowSeeds.of(42, "prompt " + i, null);
            distinct.add(s);
            orOfAll |= s;
            andOfAll &= s;
        }
        assertEquals(1000, distinct.size());
        assertEquals(-1L, orOfAll);
        assertEquals(0L, andOfAll);
        assertNotEquals(RowSeeds.of(0, "", null), RowSeeds.of(0, "", ""));
    }
}
