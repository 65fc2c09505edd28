package io.kindling.model;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.LongStream;

/**
 * A loop over {@code [0, count)} cut into fixed-size chunks run in parallel on a pool. The chunks depend only on
 * {@code count}, never on the number of threads.
 */
final class ParallelChunks {

    /** Elements per chunk: large enough to amortize the task, small enough to balance a 16-core machine. */
    static final int CHUNK = 1 << 16;

    @FunctionalInterface
    interface Body {
        void run(long from, long to);
    }

    private ParallelChunks() {
    }

    static void run(ForkJoinPool pool, long count, Body body) {
        long chunks = (count + CHUNK - 1) / CHUNK;
        // A parallel stream started from a task of `pool` runs on that pool's workers.
        pool.submit(() -> LongStream.range(0, chunks).parallel()
                .forEach(c -> body.run(c * CHUNK, Math.min(count, (c + 1) * CHUNK)))).join();
    }
}
