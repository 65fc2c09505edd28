package io.kindling.backend;

import io.kindling.backend.Logits;
import java.util.List;

/**
 * Samples a step's draws from its logits, where the backend keeps them: the CPU runs {@link Sampler} over heap
 * rows, a GPU samples on the device and copies back only the tokens and logprobs. Every implementation produces
 * the same token for the same (logits row, {@link DrawParams}); it does not call {@link SamplingState#accept},
 * the engine does.
 */
public interface BatchSampler {

    /** @return one result per draw, in the order given */
    SampleResult[] sample(Logits logits, List<Draw> draws);

    /**
     * Queues the draws and returns before they are made where the device allows it; the drawn token ids stay where
     * the next {@link Backend#forward(BatchInputs, DeferredTokens)} reads them, until the next launch. The draws are
     * read until {@link #awaitLaunched}.
     */
    void launch(Logits logits, List<Draw> draws);

    /**
     * Waits for the last {@link #launch}'s draws and writes one result per draw into {@code out}, in the order given
     * to the launch: the caller owns the array, so a step allocates none. Once per launch, before the next launch or
     * {@link #sample}.
     */
    void awaitLaunched(SampleResult[] out);
}
