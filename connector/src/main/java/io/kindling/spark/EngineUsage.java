package io.kindling.spark;

import io.kindling.core.EngineService;
import io.kindling.core.EngineStats;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An engine's preemptions, KV cache use, steps and the sequences they ran, reported into a query's metrics once per engine however many of the
 * query's tasks it served at once (each task adding the engine's whole count would multiply it). The first task of
 * a query on an engine records the engine's counters; each task that ends adds what changed since the last report.
 * Queries running at the same time on one engine each count the other's preemptions.
 */
final class EngineUsage {

    /** What was reported of one engine into one query's metrics. */
    private static final class Reported {
        long preemptions;
        long steps;
        long scheduledSeqs;
        int peakBlocks;
        boolean capacity;

        Reported(EngineStats stats) {
            this.preemptions = stats.numPreemptions();
            this.steps = stats.numSteps();
            this.scheduledSeqs = stats.scheduledSeqs();
        }
    }

    private record Key(long metricId, EngineService engine) {
    }

    /** Recent (query, engine) pairs; executors see no end of a query, so old ones are forgotten. */
    private static final int REMEMBERED = 1024;
    private static final Map<Key, Reported> REPORTS = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Reported> eldest) {
            return size() > REMEMBERED;
        }
    };

    private EngineUsage() {
    }

    static void begin(LlmMetrics metrics, EngineService engine) {
        synchronized (REPORTS) {
            REPORTS.computeIfAbsent(key(metrics, engine), k -> new Reported(engine.stats()));
        }
    }

    /** @param peakBlocks the most KV blocks in use this task saw on the engine */
    static void end(LlmMetrics metrics, EngineService engine, int peakBlocks) {
        synchronized (REPORTS) {
            Reported r = REPORTS.computeIfAbsent(key(metrics, engine), k -> new Reported(engine.stats()));
            EngineStats now = engine.stats();
            metrics.preemptions().add(now.numPreemptions() - r.preemptions);
            metrics.engineSteps().add(now.numSteps() - r.steps);
            metrics.scheduledSeqs().add(now.scheduledSeqs() - r.scheduledSeqs);
            r.preemptions = now.numPreemptions();
            r.steps = now.numSteps();
            r.scheduledSeqs = now.scheduledSeqs();
            if (peakBlocks > r.peakBlocks) {
                metrics.kvPeakBlocks().add(peakBlocks - r.peakBlocks);
                r.peakBlocks = peakBlocks;
            }
            if (!r.capacity) {
                metrics.kvBlocks().add(now.numBlocks());
                r.capacity = true;
            }
        }
    }

    private static Key key(LlmMetrics metrics, EngineService engine) {
        return new Key(metrics.preemptions().id(), engine);
    }
}
