package io.kindling.core;

import io.kindling.backend.BatchSampler;
import io.kindling.backend.Draw;
import io.kindling.backend.Logits;
import io.kindling.backend.SampleResult;
import java.util.ArrayList;
import java.util.List;

/**
 * A step's draws, each from one logits row for one sample, made in one launch of the backend's sampler; the results
 * go to their samples when awaited. The engine refills one instance every step, once the previous launch's results
 * were taken (the sampler reads the draws until then).
 */
final class StepDraws {

    private final List<Draw> draws = new ArrayList<>();
    private final List<SampleState> targets = new ArrayList<>();
    /** The launch's results, refilled every step (grown to the largest step's draws). */
    private SampleResult[] results = new SampleResult[0];
    /** The sampler whose launch of these draws was not awaited yet; null when none was. */
    private BatchSampler launchedOn;

    /** Empties it for the next step's draws. */
    void clear() {
        if (launchedOn != null) {
            throw new IllegalStateException("the last launch's draws were not awaited");
        }
        draws.clear();
        targets.clear();
    }

    void add(int row, SampleState target) {
        draws.add(target.drawFrom(row));
        targets.add(target);
    }

    /** Queues every draw on the backend's sampler. */
    void launch(BatchSampler sampler, Logits logits) {
        if (draws.isEmpty()) {
            return;
        }
        try {
            sampler.launch(logits, draws);
        } catch (IllegalArgumentException e) { // the samplers' one refusal: a row without a finite largest logit
            throw new ModelOutputException(e);
        }
        launchedOn = sampler;
    }

    /** Waits for the launched draws and hands each result to its sample. */
    void await() {
        if (launchedOn == null) {
            return;
        }
        BatchSampler sampler = launchedOn;
        launchedOn = null;
        if (results.length < draws.size()) {
            results = new SampleResult[Math.max(draws.size(), 2 * results.length)];
        }
        try {
            sampler.awaitLaunched(results);
        } catch (IllegalArgumentException e) {
            throw new ModelOutputException(e);
        }
        for (int i = 0; i < draws.size(); i++) {
            targets.get(i).accept(results[i]);
        }
    }

    /**
     * Continues each live drawing sequence with its draw's token, still pending, so the next step can be scheduled
     * before it arrives. Each sequence has one draw here (the caller checked).
     */
    void appendPendingTokens(Scheduler scheduler) {
        for (int i = 0; i < targets.size(); i++) {
            Sequence seq = targets.get(i).seq();
            if (!seq.isFinished()) { // aborted since the launch
                scheduler.appendPending(seq, i);
            }
        }
    }
}
