package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReorderBufferTest {

    @Test
    void releasesInIndexOrderWhenCompletionsArriveOutOfOrder() {
        ReorderBuffer<String> buffer = new ReorderBuffer<>(0);
        buffer.put(2, "c");
        buffer.put(1, "b");
        assertEquals(List.of(), buffer.poll());
        assertEquals(2, buffer.held());

        buffer.put(0, "a");
        assertEquals(List.of("a", "b", "c"), buffer.poll());
        assertEquals(3, buffer.released());

        buffer.put(4, "e");
        assertEquals(List.of(), buffer.poll());
        buffer.put(3, "d");
        assertEquals(List.of("d", "e"), buffer.poll());
        assertEquals(5, buffer.released());
        assertEquals(0, buffer.held());
    }

    @Test
    void refusesAResultCompletedTwice() {
        ReorderBuffer<String> buffer = new ReorderBuffer<>(0);
        buffer.put(0, "a");
        buffer.put(1, "b");
        assertThrows(IllegalStateException.class, () -> buffer.put(1, "again"));
        buffer.poll();
        assertThrows(IllegalStateException.class, () -> buffer.put(0, "again"));
    }
}
