package io.kindling.cli;

import io.kindling.core.EngineStats;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * Progress on stderr: rows done (of the total, when known), output tokens/s and KV cache use. On a terminal one
 * line redrawn in place; otherwise a line every {@link #LOG_INTERVAL_NANOS}, so logs stay readable.
 */
final class Progress {

    static final long LOG_INTERVAL_NANOS = 5_000_000_000L;
    private static final long REDRAW_INTERVAL_NANOS = 200_000_000L;
    private static final int BAR_WIDTH = 24;

    private final PrintWriter err;
    private final boolean terminal;
    private final OptionalLong total;
    private final LongSupplier clock;
    private long start;
    private long lastPrint;
    private long startTokens;

    Progress(PrintWriter err, boolean terminal, OptionalLong total, LongSupplier nanoClock) {
        this.err = err;
        this.terminal = terminal;
        this.total = total;
        this.clock = nanoClock;
    }

    static Progress onStderr(PrintWriter err, OptionalLong total) {
        return new Progress(err, System.console() != null, total, System::nanoTime);
    }

    /** Starts the clock; rates count from the engine's counters as they are now. */
    void begin(EngineStats stats) {
        start = clock.getAsLong();
        lastPrint = start;
        startTokens = stats.generationTokens();
    }

    /** Called after every engine step; prints when the interval has passed. */
    void update(long rowsDone, EngineStats stats) {
        long now = clock.getAsLong();
        if (now - lastPrint >= (terminal ? REDRAW_INTERVAL_NANOS : LOG_INTERVAL_NANOS)) {
            lastPrint = now;
            print(rowsDone, stats, now);
        }
    }

    /** The final line, always printed. */
    void finish(long rowsDone, EngineStats stats) {
        print(rowsDone, stats, clock.getAsLong());
        if (terminal) {
            err.println();
            err.flush();
        }
    }

    private void print(long rowsDone, EngineStats stats, long now) {
        String line = line(rowsDone, stats, now);
        if (terminal) {
            err.print("\r" + bar(rowsDone) + line + "\u001b[K");
        } else {
            err.println("kindling: " + line);
        }
        err.flush();
    }

    String line(long rowsDone, EngineStats stats, long now) {
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        return String.format(Locale.ROOT, "%d%s rows, %.1f output tokens/s, KV cache %.0f%%, %.0fs",
                rowsDone, total.isPresent() ? "/" + total.getAsLong() : "",
                (stats.generationTokens() - startTokens) / seconds, 100 * stats.kvCacheUsage(), seconds);
    }

    private String bar(long rowsDone) {
        if (total.isEmpty() || total.getAsLong() == 0) {
            return "";
        }
        int filled = (int) (BAR_WIDTH * Math.min(1.0, (double) rowsDone / total.getAsLong()));
        return "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] ";
    }
}
