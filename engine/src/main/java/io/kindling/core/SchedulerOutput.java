package io.kindling.core;

import java.util.List;

/**
 * What one step runs, handed from the scheduler to the model runner and back to
 * {@link Scheduler#postprocess}.
 *
 * @param scheduled the sequences in batch order, each with at least one token
 * @param preempted sequences that lost their blocks in this step and went back to waiting
 * @param copySrc with {@code copyDst}: the copy-on-write block copies to make, in order, before the forward pass
 *     (vLLM's {@code blocks_to_copy})
 */
record SchedulerOutput(List<ScheduledSequence> scheduled, List<Sequence> preempted, int[] copySrc, int[] copyDst) {

    SchedulerOutput {
        scheduled = List.copyOf(scheduled);
        preempted = List.copyOf(preempted);
        if (copySrc.length != copyDst.length) {
            throw new IllegalArgumentException(copySrc.length + " copy sources for " + copyDst.length
                    + " destinations");
        }
    }

    boolean isEmpty() {
        return scheduled.isEmpty();
    }

    int totalNumScheduledTokens() {
        int n = 0;
        for (ScheduledSequence s : scheduled) {
            n += s.numScheduledTokens();
        }
        return n;
    }

    /** How many scheduled sequences sample a token: the length {@code postprocess} expects. */
    int numSampling() {
        int n = 0;
        for (ScheduledSequence s : scheduled) {
            if (s.samples()) {
                n++;
            }
        }
        return n;
    }
}
