package io.kindling.core;

import io.kindling.backend.Draw;
import io.kindling.backend.SampleResult;
import io.kindling.sampling.SamplingState;
import io.kindling.sampling.StopStrings;
import io.kindling.sampling.TokenLogprob;
import io.kindling.tokenizer.IncrementalDetokenizer;
import io.kindling.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/** One sample of a request: its sequence (once forked), its own generator and penalties, and the growing output. */
final class SampleState {

    private Sequence seq;
    final SamplingState sampling;
    private final Request request;
    private final Tokenizer tokenizer;
    /**
     * Only with stop strings, which are matched against the text as it grows; without them the output is decoded
     * once, when it is complete (two decodes a token per step were most of the host's postprocess time:
     * HostStepBench, 1,024 sequences).
     */
    private final IncrementalDetokenizer detokenizer;
    private final StopStrings stopStrings;
    private final List<List<TokenLogprob>> logprobs;
    /** The text seen so far when the request has stop strings; cut at the stop string once one is found. */
    private final StringBuilder text = new StringBuilder();
    private boolean stoppedByString;
    private static final int NONE = -1;
    /** The token drawn this step and not yet appended, or NONE. */
    private int drawn = NONE;
    /** The last draw asked of this sample: a decode batch keeps its rows, so the next step reuses it. */
    private Draw lastDraw;

    SampleState(Request request, SamplingState sampling, Tokenizer tokenizer) {
        this.request = request;
        this.sampling = sampling;
        this.tokenizer = tokenizer;
        this.detokenizer = request.params().stop().isEmpty() ? null
                : tokenizer.newDetokenizer(request.promptTokenIds(), true);
        this.stopStrings = new StopStrings(request.params().stop());
        this.logprobs = request.params().logprobs().isPresent() ? new ArrayList<>() : null;
    }

    /** Null until the request's first sequence forks this sample's. */
    Sequence seq() {
        return seq;
    }

    void attach(Sequence seq) {
        if (this.seq != null) {
            throw new IllegalStateException("request " + request.requestId() + ": the sample already has " + this.seq);
        }
        this.seq = seq;
    }

    boolean isFinished() {
        return seq != null && seq.isFinished();
    }

    /** A draw for this sample from logits row {@code row}. */
    Draw drawFrom(int row) {
        if (lastDraw == null || lastDraw.row() != row) {
            lastDraw = new Draw(row, sampling);
        }
        return lastDraw;
    }

    /** Takes this step's draw: the token for its generator's history and the logprobs; the token awaits append. */
    void accept(SampleResult result) {
        sampling.accept(result.tokenId());
        if (logprobs != null) {
            logprobs.add(result.topLogprobs().orElseThrow());
        }
        drawn = result.tokenId();
    }

    boolean hasDrawn() {
        return drawn >= 0;
    }

    /** The token drawn this step, handed over once. */
    int takeDrawn() {
        if (drawn < 0) {
            throw new IllegalStateException("request " + request.requestId() + ": no token drawn for " + seq);
        }
        int token = drawn;
        drawn = NONE;
        return token;
    }

    /**
     * With stop strings, detokenizes the newest token. Returns true when the text now contains a stop string; the
     * text is then cut before it.
     */
    boolean appendNewestToken() {
        if (detokenizer == null) {
            return false;
        }
        String added = detokenizer.append(seq.lastTokenId());
        text.append(added);
        OptionalInt stopAt = stopStrings.findStop(text.toString(), added.length());
        if (stopAt.isPresent()) {
            text.setLength(stopAt.getAsInt());
            stoppedByString = true;
        }
        return stoppedByString;
    }

    CompletionOutput completion() {
        // The detokenizer may hold back a few chars that a later token could change; text() includes them, and
        // equals the decode of every output token.
        String finalText = stoppedByString ? text.toString()
                : detokenizer != null ? detokenizer.text() : tokenizer.decode(seq.outputTokenIds(), true);
        FinishReason reason = seq.finishReason().orElseThrow();
        return new CompletionOutput(finalText, seq.outputTokenIds(), reason, Optional.ofNullable(logprobs),
                OptionalDouble.empty(), sampling.constraint().filter(c -> !c.isComplete())
                        .map(c -> incomplete(request, reason)));
    }

    /** The error of a constrained output that ended before its constraint was satisfied. */
    static String incomplete(Request request, FinishReason reason) {
        return "the output ended (finish_reason " + reason.wireName() + ") before it was a complete "
                + request.params().structuredOutput().orElseThrow().kind() + " match; raise max_tokens (it is "
                + request.params().maxTokens() + ")";
    }
}
