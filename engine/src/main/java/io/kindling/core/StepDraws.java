package io.kindling.core;

import io.kindling.backend.Logits;
import io.kindling.backend.BatchSampler;
import io.kindling.backend.Draw;
import io.kindling.backend.SampleResult;
import java.util.ArrayList;
import java.util.List;

/** A step's draws, each from one logits row for one sample, made in one call of the backend's sampler. */
final class StepDraws {

    private final List<Draw> draws = new ArrayList<>();
    private final List<SampleState> targets = new ArrayList<>();

    void add(int row, SampleState target) {
        draws.add(new Draw(row, target.sampling));
        targets.add(target);
    }

    /** Samples every draw and hands each result to its sample. */
    void sample(BatchSampler sampler, Logits logits) {
        if (draws.isEmpty()) {
            return;
        }
        SampleResult[] results = sampler.sample(logits, draws);
        for (int i = 0; i < results.length; i++) {
            targets.get(i).accept(results[i]);
        }
    }
}
