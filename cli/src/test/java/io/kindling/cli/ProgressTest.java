package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.core.EngineStats;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {

    private static final long SECOND = 1_000_000_000L;

    private static EngineStats stats(long generated, int freeBlocks) {
        return new EngineStats(2, 0, 100, generated, 0, 200, freeBlocks, 16, 4096);
    }

    @Test
    void logsALineEveryFiveSecondsWhenNotOnATerminal() {
        StringWriter err = new StringWriter();
        AtomicLong now = new AtomicLong(100 * SECOND);
        Progress progress = new Progress(new PrintWriter(err), false, OptionalLong.of(40), now::get);
        progress.begin(stats(1000, 200));

        now.addAndGet(4 * SECOND);
        progress.update(3, stats(1200, 150));
        assertEquals("", err.toString());

        now.addAndGet(SECOND);
        progress.update(10, stats(1500, 50));
        now.addAndGet(SECOND);
        progress.update(12, stats(1600, 50));
        now.addAndGet(SECOND);
        progress.finish(40, stats(1700, 200));
        assertEquals("""
                kindling: 10/40 rows, 100.0 output tokens/s, KV cache 75%, 5s
                kindling: 40/40 rows, 100.0 output tokens/s, KV cache 0%, 7s
                """, err.toString());
    }

    @Test
    void redrawsOneLineOnATerminal() {
        StringWriter err = new StringWriter();
        AtomicLong now = new AtomicLong(0);
        Progress progress = new Progress(new PrintWriter(err), true, OptionalLong.of(4), now::get);
        progress.begin(stats(0, 200));
        now.addAndGet(SECOND);
        progress.update(1, stats(50, 100));
        now.addAndGet(SECOND);
        progress.finish(4, stats(100, 200));
        assertEquals("\r[######..................] 1/4 rows, 50.0 output tokens/s, KV cache 50%, 1s\u001b[K"
                + "\r[########################] 4/4 rows, 50.0 output tokens/s, KV cache 0%, 2s\u001b[K\n",
                err.toString().replace(System.lineSeparator(), "\n"));
    }
}
