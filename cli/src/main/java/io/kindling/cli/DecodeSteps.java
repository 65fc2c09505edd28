package io.kindling.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Wall time of the steps that only decoded (no prompt token computed), by batch size: the decode step time that the
 * roofline of a model's weights and KV reads bounds. Measured on the host around {@code step()}, so it includes
 * scheduling, the host-device copies and sampling, as a user's step does.
 */
final class DecodeSteps {

    /** Batches seen fewer times than this are too rare for a median. */
    private static final int MIN_SAMPLES = 5;

    private final Map<Integer, List<Long>> nanosByBatch = new TreeMap<>();

    void record(int batch, long nanos) {
        nanosByBatch.computeIfAbsent(batch, b -> new ArrayList<>()).add(nanos);
    }

    /** The largest batch with enough samples, and its median step time; empty when no batch qualifies. */
    Median largest() {
        Median best = null;
        for (Map.Entry<Integer, List<Long>> e : nanosByBatch.entrySet()) {
            List<Long> times = e.getValue();
            if (times.size() >= MIN_SAMPLES) {
                List<Long> sorted = new ArrayList<>(times);
                sorted.sort(null);
                best = new Median(e.getKey(), sorted.size(), sorted.get(sorted.size() / 2) / 1e6);
            }
        }
        return best == null ? new Median(0, 0, Double.NaN) : best;
    }

    record Median(int batch, int steps, double millis) {

        String report() {
            return steps == 0 ? "Decode step: no batch decoded alone often enough to time"
                    : String.format(Locale.ROOT, "Decode step: %.2f ms median at batch %d (%d steps)", millis, batch,
                            steps);
        }
    }
}
