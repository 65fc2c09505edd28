package io.kindling.sampling;

import java.util.List;
import java.util.OptionalInt;

/**
 * Finds a request's stop strings in its detokenized output as text is appended (vLLM's check_stop_strings, except
 * that the earliest occurrence wins rather than the first string in list order). Lengths are in UTF-16 chars.
 */
public final class StopStrings {

    private final List<String> stops;
    private final int maxStopLength;

    public StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
        this.maxStopLength = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /**
     * @param text the whole output text so far
     * @param numNewChars how many chars at the end of {@code text} were just appended
     * @return where to truncate {@code text} (the stop string is excluded) if a stop string now ends in the new
     *     chars; occurrences wholly inside older text are not looked for, as they were checked before
     */
    public OptionalInt findStop(String text, int numNewChars) {
        int earliest = Integer.MAX_VALUE;
        if (numNewChars > 0) {
            for (String stop : stops) {
                int from = Math.max(0, text.length() - numNewChars - stop.length() + 1);
                int index = text.indexOf(stop, from);
                if (index >= 0) {
                    earliest = Math.min(earliest, index);
                }
            }
        }
        return earliest == Integer.MAX_VALUE ? OptionalInt.empty() : OptionalInt.of(earliest);
    }

    /**
     * The longest stop string's length. A streaming caller holds back the last {@code maxStopLength() - 1} chars,
     * which may still turn out to begin a stop string.
     */
    public int maxStopLength() {
        return maxStopLength;
    }
}
