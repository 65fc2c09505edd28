package io.kindling.sampling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The decisions of one request's beam search, as transformers 5's {@code _beam_search} without sampling; the
 * engine runs the beams. Each step takes the logits of every live beam (all of the same length) and:
 * <ol>
 *   <li>scores each continuation by the beam's cumulative logprob plus log_softmax of the raw logits (float32);</li>
 *   <li>keeps the best {@code max(2, 1 + numEos) * beamWidth} over all beams;</li>
 *   <li>of the best {@code beamWidth} of those, each that ends in EOS (or reaches the length limit) becomes a
 *       finished hypothesis scored {@code cumulative / generated_len ^ length_penalty}, {@code generated_len}
 *       counting that last token; the best {@code beamWidth} hypotheses are kept;</li>
 *   <li>the best {@code beamWidth} of the rest are the next live beams, best first.</li>
 * </ol>
 * It stops as {@link EarlyStopping} says, or when every kept continuation finishes (the length limit).
 */
public final class BeamSearch {

    /** A finished beam: its generated tokens (EOS included), cumulative logprob and length-penalized score. */
    public record Hypothesis(int[] tokenIds, float cumulativeLogprob, float score, boolean endsWithEos) {
    }

    /**
     * What one step decided.
     *
     * @param parents for each next live beam, best first, the index of the beam it continues
     * @param tokenIds for each next live beam, its new token
     * @param done whether the search is over: then there are no next beams and {@link #best} is the result
     */
    public record Step(int[] parents, int[] tokenIds, boolean done) {
    }

    private final int beamWidth;
    private final int beamsToKeep;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;
    private final int[] eosTokenIds;
    private final int maxNewTokens;
    private float[] beamScores = {0f};
    private int numGenerated;
    private final List<Hypothesis> finished = new ArrayList<>();
    private boolean improvementPossible = true;

    /**
     * @param eosTokenIds the ids that finish a beam: the model's EOS (unless ignored) and the stop token ids
     * @param maxNewTokens the length limit: {@code max_tokens}, or less where the context ends sooner
     */
    public BeamSearch(SamplingParams params, int[] eosTokenIds, int maxNewTokens) {
        if (!params.isBeamSearch()) {
            throw new IllegalArgumentException("not a beam search: beam_width is 0");
        }
        this.beamWidth = params.beamWidth();
        this.beamsToKeep = Math.max(2, 1 + eosTokenIds.length) * beamWidth;
        this.lengthPenalty = params.lengthPenalty();
        this.earlyStopping = params.earlyStopping();
        this.eosTokenIds = eosTokenIds.clone();
        this.maxNewTokens = maxNewTokens;
    }

    /**
     * @param logits each live beam's logits row, in the order of the last step's beams
     * @param outputTokenIds each live beam's generated tokens so far, same order
     */
    public Step step(List<float[]> logits, List<int[]> outputTokenIds) {
        if (logits.size() != beamScores.length) {
            throw new IllegalArgumentException("beam search has " + beamScores.length + " live beams, got "
                    + logits.size() + " logits rows");
        }
        List<Candidate> candidates = topCandidates(logits);
        boolean lastStep = numGenerated + 1 >= maxNewTokens;
        List<Candidate> next = new ArrayList<>(beamWidth);
        boolean full = finished.size() == beamWidth;
        boolean allFinish = true;
        List<Hypothesis> added = new ArrayList<>();
        for (int j = 0; j < candidates.size(); j++) {
            Candidate c = candidates.get(j);
            boolean eos = isEos(c.tokenId);
            if (!(eos || lastStep)) {
                allFinish = false;
                if (next.size() < beamWidth) {
                    next.add(c);
                }
            } else if (j < beamWidth && improvementPossible && !(full && earlyStopping == EarlyStopping.TRUE)) {
                int[] prefix = outputTokenIds.get(c.beam);
                int[] tokens = Arrays.copyOf(prefix, prefix.length + 1);
                tokens[prefix.length] = c.tokenId;
                float score = (float) (c.score / Math.pow(numGenerated + 1, lengthPenalty));
                added.add(new Hypothesis(tokens, c.score, score, eos));
            }
        }
        finished.addAll(added);
        finished.sort(Comparator.comparingDouble(h -> -h.score)); // stable: earlier hypotheses win ties
        while (finished.size() > beamWidth) {
            finished.remove(finished.size() - 1);
        }
        numGenerated++;
        if (finished.size() == beamWidth && !next.isEmpty()) {
            int hypotheticalLength = earlyStopping == EarlyStopping.NEVER && lengthPenalty > 0
                    ? maxNewTokens : numGenerated;
            float bestPossible = (float) (next.get(0).score / Math.pow(hypotheticalLength, lengthPenalty));
            improvementPossible &= bestPossible > finished.get(finished.size() - 1).score;
        }
        boolean done = !improvementPossible || allFinish || next.isEmpty()
                || (finished.size() == beamWidth && earlyStopping == EarlyStopping.TRUE);
        if (done) {
            beamScores = new float[0];
            return new Step(new int[0], new int[0], true);
        }
        int[] parents = new int[next.size()];
        int[] tokenIds = new int[next.size()];
        beamScores = new float[next.size()];
        for (int i = 0; i < next.size(); i++) {
            parents[i] = next.get(i).beam;
            tokenIds[i] = next.get(i).tokenId;
            beamScores[i] = next.get(i).score;
        }
        return new Step(parents, tokenIds, false);
    }

    /** The finished hypotheses, best first: at most {@code beamWidth}. */
    public List<Hypothesis> best() {
        return List.copyOf(finished);
    }

    private record Candidate(int beam, int tokenId, float score) {
    }

    /** The best {@code beamsToKeep} continuations over all beams, best first (ties: lower beam, then token). */
    private List<Candidate> topCandidates(List<float[]> logits) {
        List<Candidate> all = new ArrayList<>(beamsToKeep * logits.size());
        for (int b = 0; b < logits.size(); b++) {
            float[] row = logits.get(b);
            int k = Math.min(beamsToKeep, row.length);
            double logSum = LogSoftmax.of(row).logSumExp();
            long[] keys = new long[row.length];
            for (int i = 0; i < row.length; i++) {
                keys[i] = TokenRanking.key(row[i], i);
            }
            TokenRanking.selectBest(keys, 0, keys.length, k);
            for (int j = 0; j < k; j++) {
                int tokenId = TokenRanking.tokenId(keys[j]);
                if (row[tokenId] == Float.NEGATIVE_INFINITY) {
                    continue; // masked out (structured output): never a continuation
                }
                float logprob = (float) (row[tokenId] - logSum);
                all.add(new Candidate(b, tokenId, beamScores[b] + logprob));
            }
        }
        all.sort(Comparator.comparingDouble((Candidate c) -> -c.score).thenComparingInt(Candidate::beam)
                .thenComparingInt(Candidate::tokenId));
        return all.subList(0, Math.min(beamsToKeep, all.size()));
    }

    private boolean isEos(int tokenId) {
        for (int eos : eosTokenIds) {
            if (eos == tokenId) {
                return true;
            }
        }
        return false;
    }
}
