package io.kindling.backend.cpu;

import io.kindling.backend.BatchSampler;
import io.kindling.backend.DeferredTokens;
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
    /** The tokens of the last {@link #launch}, by draw: the CPU's stand-in for a GPU's device results. */
    private int[] lastTokenIds = new int[0];
    /** The last launch's results until they are awaited; else null. */
    private SampleResult[] launched;

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

    /** Samples now, and keeps the tokens for the next step's deferred inputs. */
    @Override
    public void launch(Logits logits, List<Draw> draws) {
        launched = null;
        SampleResult[] results = sample(logits, draws);
        if (lastTokenIds.length < results.length) {
            lastTokenIds = new int[Math.max(results.length, 2 * lastTokenIds.length)];
        }
        for (int i = 0; i < results.length; i++) {
            lastTokenIds[i] = results[i].tokenId();
        }
        launched = results;
    }

    @Override
    public void awaitLaunched(SampleResult[] out) {
        if (launched == null) {
            throw new IllegalStateException("no launched draws to await");
        }
        System.arraycopy(launched, 0, out, 0, launched.length);
        launched = null;
    }

    /** Writes the last launch's tokens into the batch's deferred input ids. */
    void resolve(DeferredTokens deferred, int[] inputIds) {
        deferred.resolve(lastTokenIds, inputIds);
    }
}
