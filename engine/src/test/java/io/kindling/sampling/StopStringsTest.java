package io.kindling.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class StopStringsTest {

    @Test
    void stopAtTheStartTruncatesToEmpty() {
        assertEquals(OptionalInt.of(0), new StopStrings(List.of("STOP")).findStop("STOP and more", 13));
    }

    @Test
    void stopFoundInALaterAppend() {
        StopStrings stops = new StopStrings(List.of("\n\n"));
        assertEquals(OptionalInt.empty(), stops.findStop("Hello", 5));
        assertEquals(OptionalInt.empty(), stops.findStop("Hello world.", 7));
        assertEquals(OptionalInt.of(12), stops.findStop("Hello world.\n\nNext", 6));
    }

    @Test
    void earliestOccurrenceWinsOverListOrder() {
        StopStrings stops = new StopStrings(List.of("world", "lo"));
        assertEquals(OptionalInt.of(3), stops.findStop("Hello world", 11));
    }

    @Test
    void stopSplitOverTwoAppendsIsFoundWhenComplete() {
        StopStrings stops = new StopStrings(List.of("</s>"));
        assertEquals(OptionalInt.empty(), stops.findStop("abc</", 2));
        assertEquals(OptionalInt.of(3), stops.findStop("abc</s>", 2));
    }

    @Test
    void noFalsePositives() {
        StopStrings stops = new StopStrings(List.of("abc", "xyz"));
        assertEquals(OptionalInt.empty(), stops.findStop("ab", 2));
        assertEquals(OptionalInt.empty(), stops.findStop("abxc", 2));
        assertEquals(OptionalInt.empty(), stops.findStop("abxcabd", 3));
        assertEquals(OptionalInt.empty(), stops.findStop("abxcabdxy", 2));
        assertEquals(OptionalInt.empty(), stops.findStop("abxcabdxy", 0));
    }

    @Test
    void occurrencesWhollyInOlderTextAreNotSearched() {
        StopStrings stops = new StopStrings(List.of("STOP"));
        assertEquals(OptionalInt.empty(), stops.findStop("STOP then 123", 3));
        assertEquals(OptionalInt.of(0), stops.findStop("STOP then 123", 10), "window reaches the stop's last char");
        assertEquals(OptionalInt.empty(), stops.findStop("STOP then 123", 9));
    }

    @Test
    void maxStopLengthIsTheLongestStop() {
        assertEquals(5, new StopStrings(List.of("ab", "</s>x", "z")).maxStopLength());
        assertEquals(0, new StopStrings(List.of()).maxStopLength());
        assertEquals(OptionalInt.empty(), new StopStrings(List.of()).findStop("anything", 8));
    }
}
