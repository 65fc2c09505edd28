package io.kindling.core;

import io.kindling.sampling.SamplingState;
import io.kindling.sampling.StopStrings;
import io.kindling.sampling.TokenLogprob;
import io.kindling.tokenizer.IncrementalDetokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** What the engine keeps per live request besides its {@link Sequence}: sampling state and the growing output. */
final class RequestState {

    final Request request;
    final Sequence seq;
    final SamplingState sampling;
    private final IncrementalDetokenizer detokenizer;
    private final StopStrings stopStrings;
    private final List<List<TokenLogprob>> logprobs;
    /** The text seen so far, for stop strings; cut at the stop string once one is found. */
    private final StringBuilder text = new StringBuilder();
    private boolean stoppedByString;

    RequestState(Request request, Sequence seq, SamplingState sampling, IncrementalDetokenizer detokenizer) {
        this.request = request;
        this.seq = seq;
        this.sampling = sampling;
        this.detokenizer = detokenizer;
        this.stopStrings = new StopStrings(request.params().stop());
        this.logprobs = request.params().logprobs().isPresent() ? new ArrayList<>() : null;
    }

    void addLogprobs(Optional<List<TokenLogprob>> top) {
        if (logprobs != null) {
            logprobs.add(top.orElseThrow());
        }
    }

    /**
     * Detokenizes the newest token. Returns true when the text now contains a stop string; the text is then cut
     * before it.
     */
    boolean appendNewestToken() {
        String added = detokenizer.append(seq.lastTokenId());
        text.append(added);
        if (request.params().stop().isEmpty()) {
            return false;
        }
        OptionalInt stopAt = stopStrings.findStop(text.toString(), added.length());
        if (stopAt.isPresent()) {
            text.setLength(stopAt.getAsInt());
            stoppedByString = true;
        }
        return stoppedByString;
    }

    RequestOutput finalOutput(FinishReason reason) {
        // The detokenizer may hold back a few chars that a later token could change; text() includes them.
        String finalText = stoppedByString ? text.toString() : detokenizer.text();
        CompletionOutput completion = new CompletionOutput(finalText, seq.outputTokenIds(), reason,
                Optional.ofNullable(logprobs));
        return new RequestOutput(request.requestId(), request.promptTokenIds(), completion, Optional.empty());
    }

    static RequestOutput error(Request request, String message) {
        CompletionOutput completion = new CompletionOutput("", new int[0], FinishReason.ERROR, Optional.empty());
        return new RequestOutput(request.requestId(), request.promptTokenIds(), completion, Optional.of(message));
    }
}
