package io.kindling.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The backend's fixed worker pool. Tasks are claimed dynamically, which is safe for determinism because every
 * output element is computed whole inside one task: which thread runs a task never changes its arithmetic.
 */
final class CpuThreads implements AutoCloseable {

    private final int numThreads;
    private final ExecutorService pool;

    CpuThreads(int numThreads) {
        if (numThreads < 1) {
            throw new IllegalArgumentException("numThreads must be at least 1, got " + numThreads);
        }
        this.numThreads = numThreads;
        AtomicInteger created = new AtomicInteger();
        this.pool = numThreads == 1 ? null : Executors.newFixedThreadPool(numThreads - 1, r -> {
            Thread t = new Thread(r, "kindling-cpu-" + created.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    int numThreads() {
        return numThreads;
    }

    /** Runs {@code task.accept(i)} for every i in [0, numTasks); the calling thread works too. */
    void parallelFor(int numTasks, IntConsumer task) {
        int helpers = Math.min(numThreads, numTasks) - 1;
        if (helpers <= 0) {
            for (int i = 0; i < numTasks; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i = next.getAndIncrement(); i < numTasks; i = next.getAndIncrement()) {
                task.accept(i);
            }
        };
        List<Future<?>> futures = new ArrayList<>(helpers);
        for (int h = 0; h < helpers; h++) {
            futures.add(pool.submit(worker));
        }
        worker.run();
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for CPU workers", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException("CPU worker failed", e.getCause());
            }
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
