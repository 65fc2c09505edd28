package io.kindling.core;

import java.util.List;
import java.util.Optional;

/**
 * What the engine keeps per live sampled request: its {@code n} samples. The request starts as one sequence, sample
 * 0's; when its prompt is computed, the engine draws the first token of every sample from the same logits and the
 * sequence forks into the others, which share its blocks.
 */
final class RequestState {

    final Request request;
    private final List<SampleState> samples;

    RequestState(Request request, List<SampleState> samples) {
        this.request = request;
        this.samples = List.copyOf(samples);
    }

    List<SampleState> samples() {
        return samples;
    }

    /** Whether the next token is the first, drawn for every sample: until then only sample 0 has a sequence. */
    boolean forksNext() {
        return samples.size() > 1 && samples.get(1).seq() == null;
    }

    /** Gives a fork to the first sample still without a sequence; returns that sample. */
    SampleState attachFork(Sequence child) {
        for (SampleState s : samples) {
            if (s.seq() == null) {
                s.attach(child);
                return s;
            }
        }
        throw new IllegalStateException("request " + request.requestId() + " has no sample left for " + child);
    }

    boolean isFinished() {
        return samples.stream().allMatch(SampleState::isFinished);
    }

    RequestOutput finalOutput() {
        return new RequestOutput(request.requestId(), request.promptTokenIds(),
                samples.stream().map(SampleState::completion).toList(), Optional.empty());
    }

    static RequestOutput error(Request request, String message) {
        CompletionOutput completion = new CompletionOutput("", new int[0], FinishReason.ERROR, Optional.empty());
        return new RequestOutput(request.requestId(), request.promptTokenIds(), completion, Optional.of(message));
    }
}
