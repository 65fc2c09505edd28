package io.kindling.core;

import io.kindling.backend.Logits;
import io.kindling.sampling.BeamSearch;
import io.kindling.structured.ConstraintState;
import io.kindling.structured.TokenBitmask;
import io.kindling.tokenizer.IncrementalDetokenizer;
import io.kindling.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A beam search request: the search, its live beams (best first) and the logits of those that have computed their
 * last token. A beam step needs every live beam's logits; a beam that has them
 * waits (its sequence holds every token computed and none new) until its siblings catch up, which they do in the
 * same step unless the token budget or a preemption held them back.
 */
final class BeamSearchRequest extends RequestGroup {

    private final BeamSearch search;
    private List<Sequence> beams;
    private final Map<Sequence, float[]> logits = new IdentityHashMap<>();
    /** Each live beam's place in the request's structured-output constraint; empty when it has none. */
    private final Map<Sequence, ConstraintState> constraints = new IdentityHashMap<>();
    /** The constraint at the start, kept to check finished beams; absent when the request has none. */
    private final Optional<ConstraintState> initialConstraint;
    private boolean done;

    BeamSearchRequest(Request request, BeamSearch search, Optional<ConstraintState> constraint, Sequence first) {
        super(request);
        this.search = search;
        this.beams = List.of(first);
        this.initialConstraint = constraint.map(ConstraintState::copy);
        constraint.ifPresent(c -> constraints.put(first, c));
    }

    /** The beam waits for its siblings' logits: the beam step then needs them all. */
    @Override
    void onLogits(Sequence seq, int row, Logits rows, StepDraws draws) {
        logits.put(seq, rows.row(row));
    }

    /** Runs the beam step when every live beam has its logits; counts a token per live beam either way. */
    @Override
    int advance(Scheduler scheduler) {
        done = tryStep(scheduler);
        return done ? 0 : beams.size();
    }

    /** Never: the beam step picks which beams continue, fork or drop, from all their rows, on the host. */
    @Override
    boolean continuesWithDraws() {
        return false;
    }

    @Override
    boolean isFinished() {
        return done;
    }

    /**
     * Runs the beam step once every live beam has its logits, and applies it through {@code scheduler}: beams with
     * several continuations fork, beams with none are dropped (their blocks freed at once), and when the search is
     * over every beam is.
     *
     * @return whether the search is over
     */
    private boolean tryStep(Scheduler scheduler) {
        if (logits.size() < beams.size()) {
            return false;
        }
        List<float[]> rows = new ArrayList<>(beams.size());
        List<int[]> outputs = new ArrayList<>(beams.size());
        for (Sequence beam : beams) {
            float[] row = logits.get(beam);
            ConstraintState constraint = constraints.get(beam);
            if (constraint != null) {
                TokenBitmask.apply(constraint.allowedTokens(), row);
            }
            rows.add(row);
            outputs.add(beam.outputTokenIds());
        }
        logits.clear();
        BeamSearch.Step step = search.step(rows, outputs);
        if (step.done()) {
            beams.forEach(beam -> scheduler.finish(beam, FinishReason.ABORT));
            beams = List.of();
            return true;
        }
        Sequence[] next = new Sequence[step.parents().length];
        Map<Sequence, ConstraintState> nextConstraints = new IdentityHashMap<>();
        for (int b = 0; b < beams.size(); b++) {
            List<Integer> ranks = new ArrayList<>();
            for (int r = 0; r < step.parents().length; r++) {
                if (step.parents()[r] == b) {
                    ranks.add(r);
                }
            }
            int[] tokens = ranks.stream().mapToInt(r -> step.tokenIds()[r]).toArray();
            List<Sequence> continued = continueWith(scheduler, beams.get(b), tokens);
            ConstraintState parent = constraints.get(beams.get(b));
            for (int i = 0; i < ranks.size(); i++) {
                next[ranks.get(i)] = continued.get(i);
                if (parent != null) { // a continuation starts where its parent stands
                    ConstraintState child = parent.copy();
                    child.accept(tokens[i]);
                    nextConstraints.put(continued.get(i), child);
                }
            }
        }
        beams = List.of(next);
        constraints.clear();
        constraints.putAll(nextConstraints);
        return false;
    }

    /**
     * The best {@code n} finished beams, best first; fewer when a constraint admits fewer distinct outputs (a
     * boolean has two).
     */
    @Override
    RequestOutput finalOutput(Tokenizer tokenizer) {
        List<CompletionOutput> completions = new ArrayList<>();
        List<BeamSearch.Hypothesis> best = search.best();
        for (BeamSearch.Hypothesis h : best.subList(0, Math.min(request.params().n(), best.size()))) {
            IncrementalDetokenizer detokenizer = tokenizer.newDetokenizer(request.promptTokenIds(), true);
            for (int tokenId : h.tokenIds()) {
                detokenizer.append(tokenId);
            }
            FinishReason reason = h.endsWithEos() ? FinishReason.STOP : FinishReason.LENGTH;
            completions.add(new CompletionOutput(detokenizer.text(), h.tokenIds(), reason, Optional.empty(),
                    OptionalDouble.of(h.cumulativeLogprob()), initialConstraint.filter(c -> !completes(c, h))
                            .map(c -> SampleState.incomplete(request, reason))));
        }
        return new RequestOutput(request.requestId(), request.promptTokenIds(), completions, Optional.empty());
    }

    /** Whether the hypothesis's tokens satisfy the constraint that {@code start} begins. */
    private static boolean completes(ConstraintState start, BeamSearch.Hypothesis h) {
        ConstraintState state = start.copy();
        for (int tokenId : h.tokenIds()) {
            state.accept(tokenId);
        }
        return state.isComplete();
    }

    @Override
    void abort(Scheduler scheduler) {
        beams.forEach(beam -> scheduler.finish(beam, FinishReason.ABORT));
        beams = List.of();
    }
}
