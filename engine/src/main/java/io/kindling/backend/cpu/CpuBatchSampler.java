package io.kindling.backend.cpu;

import io.kindling.backend.BatchSampler;
import io.kindling.backend.Draw;
import io.kindling.backend.Logits;
import io.kindling.backend.SampleResult;
import io.kindling.backend.cpu.Sampler;
import java.util.List;

/**
 * The CPU's {@link BatchSampler}: the {@link Sampler} over heap copies of the rows, draws in parallel on the
 * backend's workers (each draw uses only its own generator, so the thread count cannot change a token). Every draw
 * gets its own copy of its row, so draws sharing a row cannot see each other's edits.
 */
final class CpuBatchSampler implements BatchSampler {

    private final Sampler sampler = new Sampler();
    private final CpuThreads threads;

    CpuBatchSampler(CpuThreads threads) {
        this.threads = threads;
    }

    @Override
    public SampleResult[] sample(Logits logits, List<Draw> draws) {
        float[][] rows = new float[draws.size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = logits.row(draws.get(i).row()); // on this thread: Logits is single-threaded
        }
        SampleResult[] results = new SampleResult[rows.length];
        threads.parallelFor(rows.length, i -> results[i] = sampler.sample(rows[i], draws.get(i).state()));
        return results;
    }
}
