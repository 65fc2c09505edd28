package io.kindling.core;

import io.kindling.backend.Logits;
import io.kindling.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A live request as the engine keeps it: the parent of its sequences, one or several, as vLLM v1 keeps {@code n > 1}
 * out of its core. The scheduler sees plain sequences that get one token a step; the group decides which logits
 * rows to draw from, when a sequence forks (the samples of {@code n > 1}, a beam with several continuations), when
 * one is dropped (a beam that lost), and what the request's output is.
 */
abstract sealed class RequestGroup permits SampledRequest, BeamSearchRequest {

    final Request request;
    /** The engine's number of the last step whose draws this request queued: it advances once for that step. */
    long lastDrawStep = -1;

    RequestGroup(Request request) {
        this.request = request;
    }

    /** {@code seq}, one of this request's, has its logits in {@code row}: queue the draws it needs, or keep the row. */
    abstract void onLogits(Sequence seq, int row, Logits logits, StepDraws draws);

    /**
     * After the step's draws: appends, forks or drops this request's sequences through {@code scheduler}.
     *
     * @return the tokens this step generated for the request
     */
    abstract int advance(Scheduler scheduler);

    abstract boolean isFinished();

    /**
     * Whether, after this step's draws, each of its drawing sequences simply continues with its own token (no fork, no
     * beam choice), so the next step may be scheduled before the tokens are known (asynchronous scheduling).
     */
    abstract boolean continuesWithDraws();

    abstract RequestOutput finalOutput(Tokenizer tokenizer);

    /** Ends every sequence of the request (its task went away); their blocks are freed at once. */
    abstract void abort(Scheduler scheduler);

    /**
     * Continues {@code seq} with {@code tokenIds}: each token after the first goes to a fork of it (forked before any
     * token is appended, so all continue the same tokens), the first to {@code seq} itself; none drops it.
     *
     * @return {@code seq} and its forks, in the order of {@code tokenIds}
     */
    static List<Sequence> continueWith(Scheduler scheduler, Sequence seq, int[] tokenIds) {
        if (tokenIds.length == 0) {
            scheduler.finish(seq, FinishReason.ABORT);
            return List.of();
        }
        List<Sequence> out = new ArrayList<>(tokenIds.length);
        out.add(seq);
        for (int i = 1; i < tokenIds.length; i++) {
            out.add(scheduler.fork(seq));
        }
        for (int i = 0; i < tokenIds.length; i++) {
            scheduler.append(out.get(i), tokenIds[i]);
        }
        return out;
    }

    /** The output of a request that could not be served; {@code problem} does not repeat the request's id. */
    static RequestOutput error(Request request, String message) {
        CompletionOutput completion = new CompletionOutput("", new int[0], FinishReason.ERROR, Optional.empty());
        return new RequestOutput(request.requestId(), request.promptTokenIds(), completion, Optional.of(message));
    }
}
