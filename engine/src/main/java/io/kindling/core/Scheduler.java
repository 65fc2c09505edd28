package io.kindling.core;

import io.kindling.sampling.SamplingParams;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Continuous batching, vLLM v1 style: there is no prefill or decode phase. Each sequence has
 * {@code numComputedTokens} catching up with {@code numTokens}, and each step hands out a token budget, first to
 * the running sequences (oldest first), then to waiting ones, in the order {@link PrefixAwareAdmission} picks
 * (first come, first served unless a prompt behind the head starts with cached blocks). A waiting sequence starts
 * from its longest cached prefix. A prompt longer than the budget left is prefilled in chunks over several steps,
 * mixed with other sequences' decodes. When blocks run out the most recently admitted running sequence is
 * preempted: its blocks are freed (into the prefix cache) and its tokens are recomputed when it is admitted again,
 * less what the cache still holds.
 */
final class Scheduler {

    private final SchedulerConfig config;
    private final KvCacheManager kvCacheManager;
    private final int[] eosTokenIds;
    private final Deque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>();
    private final PrefixAwareAdmission admission;
    /** The step's batch and the sampling sequences of its postprocess, refilled every step. */
    private final SchedulerOutput output = new SchedulerOutput();
    private final List<Sequence> sampling = new ArrayList<>();
    private long numPreemptions;
    private long numComputedPromptTokens;

    /**
     * The caller adds only sequences that fit the cache alone at their longest (the engine refuses others), so a
     * lone sequence never preempts itself forever.
     *
     * @param eosTokenIds the model's end-of-sequence ids; each stops a sequence unless it ignores EOS
     */
    Scheduler(SchedulerConfig config, KvCacheManager kvCacheManager, int[] eosTokenIds) {
        this.config = config;
        this.kvCacheManager = kvCacheManager;
        this.eosTokenIds = eosTokenIds.clone();
        this.admission = PrefixAwareAdmission.defaults();
    }

    /**
     * Queues a new sequence behind the waiting ones.
     *
     * @throws InvalidRequestException if its prompt is longer than {@code maxModelLen}
     */
    void add(Sequence seq) {
        if (seq.numTokens() > config.maxModelLen()) {
            throw new InvalidRequestException(seq.requestId(), "the prompt has " + seq.numTokens()
                    + " tokens, more than the model's context of " + config.maxModelLen());
        }
        if (seq.status() != SequenceStatus.WAITING || seq.numComputedTokens() > 0) {
            throw new IllegalStateException("request " + seq.requestId() + " is not new: " + seq);
        }
        waiting.addLast(seq);
    }

    /** Picks this step's batch and reserves KV slots for every token in it; the batch is valid until the next call. */
    SchedulerOutput schedule() {
        int budget = config.maxNumBatchedTokens();
        SchedulerOutput out = output;
        out.clear();

        // running
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Sequence seq = running.get(i);
            if (seq.numComputedTokens() == seq.numTokens()) { // waits for extend()
                continue;
            }
            int numNewTokens = numNewTokens(seq, seq.numComputedTokens(), budget);
            if (!allocateOrPreempt(seq, numNewTokens, out)) {
                break;
            }
            out.add(seq, numNewTokens);
            budget -= numNewTokens;
        }

        // waiting, unless blocks are already short
        while (!out.hasPreempted() && budget > 0 && !waiting.isEmpty()
                && running.size() < config.maxNumSeqs()) {
            Sequence seq = admission.next(waiting, kvCacheManager::hasCachedPrefix);
            KvCacheManager.ComputedBlocks computed = kvCacheManager.getComputedBlocks(seq);
            int numNewTokens = numNewTokens(seq, computed.numTokens(), budget);
            if (!kvCacheManager.allocateSlots(seq, numNewTokens, computed)) {
                break;
            }
            waiting.remove(seq);
            admission.admitted(seq);
            seq.setRunning();
            running.add(seq);
            out.add(seq, numNewTokens);
            budget -= numNewTokens;
        }
        kvCacheManager.takeBlocksToCopy(out);
        return out;
    }

    /**
     * Applies a step's computation: every scheduled sequence's tokens become computed (a sequence finished between
     * {@link #schedule} and this call is skipped). The step ends with {@link #endStep}, once the new tokens are in.
     *
     * @return the sampling sequences in batch order, one per logits row (a finished one included, to keep the
     *     rows aligned); each now awaits its next token from {@link #append}. Valid until the next call.
     */
    List<Sequence> postprocess(SchedulerOutput out) {
        sampling.clear();
        for (int i = 0; i < out.numScheduled(); i++) {
            Sequence seq = out.seq(i);
            if (out.samples(i)) {
                sampling.add(seq);
            }
            if (seq.isFinished()) { // aborted after schedule()
                continue;
            }
            int start = seq.numComputedTokens();
            int end = start + out.numScheduledTokens(i);
            numComputedPromptTokens += Math.max(0, Math.min(end, seq.numPromptTokens()) - start);
            seq.addComputedTokens(out.numScheduledTokens(i));
        }
        return sampling;
    }

    /** Ends a step after its tokens were appended and its forks made: the KV accounting takes its sample. */
    void endStep() {
        kvCacheManager.recordStep(running);
    }

    /**
     * Appends the next token to {@code seq}, whose tokens are all computed; a sequence meeting a stop condition
     * then finishes and frees its blocks. Until a token is appended, {@link #schedule} skips the sequence (a beam
     * waiting for its siblings).
     */
    void append(Sequence seq, int tokenId) {
        if (seq.hasPendingToken() && !seq.isFinished()) { // the token a later step may already compute
            seq.resolvePendingToken(tokenId);
            finishIfStopped(seq);
            return;
        }
        if (seq.numComputedTokens() != seq.numTokens() || seq.isFinished()) {
            throw new IllegalStateException("request " + seq.requestId() + ": a token can only follow a live "
                    + "sequence whose tokens are all computed: " + seq);
        }
        seq.appendTokenId(tokenId);
        finishIfStopped(seq);
    }

    /**
     * Asynchronous scheduling: {@code seq}, whose tokens are all computed, continues with the token that draw
     * {@code drawIndex} of the step on the device is drawing, so that the next {@link #schedule} schedules it
     * before its id is known; {@link #append} then gives the id (and may finish the sequence, wasting its row).
     * Unless that token surely ends it (max_tokens, the model's context): then it waits for {@link #append} as
     * without asynchronous scheduling, and wastes no row.
     */
    void appendPending(Sequence seq, int drawIndex) {
        if (seq.numComputedTokens() != seq.numTokens() || seq.status() != SequenceStatus.RUNNING) {
            throw new IllegalStateException("request " + seq.requestId() + ": only a running sequence whose tokens "
                    + "are all computed continues with a pending token: " + seq);
        }
        if (!reachesLength(seq, 1)) {
            seq.appendPendingToken(drawIndex);
        }
    }

    /**
     * A new sequence continuing {@code parent}'s tokens: it shares the parent's blocks (copy-on-write) and runs
     * behind it, or waits with it when the parent was preempted.
     */
    Sequence fork(Sequence parent) {
        Sequence child = parent.fork();
        if (parent.status() == SequenceStatus.RUNNING) {
            kvCacheManager.fork(parent, child);
            running.add(child);
        } else { // preempted while it waited for its siblings: recomputed like its parent
            waiting.addFirst(child);
        }
        return child;
    }

    /**
     * Ends {@code seq}, waiting or running (a stop string, a cancelled request): removes it and frees its blocks.
     *
     * @return false if it had already finished, in which case nothing changes
     */
    boolean finish(Sequence seq, FinishReason reason) {
        if (seq.isFinished()) {
            return false;
        }
        if (!running.remove(seq) && !waiting.remove(seq)) {
            throw new IllegalStateException("request " + seq.requestId() + " is not in this scheduler");
        }
        kvCacheManager.free(seq);
        seq.finish(reason);
        return true;
    }

    boolean hasUnfinished() {
        return !running.isEmpty() || !waiting.isEmpty();
    }

    int numRunning() {
        return running.size();
    }

    int numWaiting() {
        return waiting.size();
    }

    /** Preemptions since this scheduler was created. */
    long numPreemptions() {
        return numPreemptions;
    }

    /** Prompt tokens whose K/V the model computed (again, after a preemption); cached ones are not. */
    long numComputedPromptTokens() {
        return numComputedPromptTokens;
    }

    /**
     * The tokens of {@code seq} after its first {@code numComputed} that fit the budget (and the long-prefill
     * chunk limit).
     */
    private int numNewTokens(Sequence seq, int numComputed, int budget) {
        int n = Math.min(seq.numTokens() - numComputed, budget);
        return Math.min(n, config.longPrefillTokenThreshold().orElse(n));
    }

    /**
     * Allocates slots for a running sequence, preempting running sequences from the most recently admitted
     * until they fit (recompute-style: the victim goes to the front of waiting with nothing computed).
     *
     * @return false if {@code seq} itself had to be preempted
     */
    private boolean allocateOrPreempt(Sequence seq, int numNewTokens, SchedulerOutput out) {
        while (!kvCacheManager.allocateSlots(seq, numNewTokens)) {
            // the last admitted running sequence
            Sequence victim = running.remove(running.size() - 1);
            kvCacheManager.free(victim);
            victim.preempt();
            waiting.addFirst(victim);
            out.addPreempted(victim);
            numPreemptions++;
            if (victim == seq) {
                return false;
            }
        }
        return true;
    }

    private void finishIfStopped(Sequence seq) {
        FinishReason reason = stopReason(seq);
        if (reason != null) {
            finish(seq, reason);
        }
    }

    /**
     * vLLM's order: length limits first; EOS and stop tokens count only after {@code minTokens} outputs. Null while
     * the sequence goes on (every sequence, every step: no Optional, no boxed token id).
     */
    private FinishReason stopReason(Sequence seq) {
        SamplingParams p = seq.params();
        if (reachesLength(seq, 0)) {
            return FinishReason.LENGTH;
        }
        if (seq.numOutputTokens() < p.minTokens()) {
            return null;
        }
        int last = seq.lastTokenId();
        if ((!p.ignoreEos() && isEos(last)) || isStopToken(p.stopTokenIds(), last)) {
            return FinishReason.STOP;
        }
        return null;
    }

    /** Whether {@code more} further tokens would bring {@code seq} to the model's context or to max_tokens. */
    private boolean reachesLength(Sequence seq, int more) {
        return seq.numTokens() + more >= config.maxModelLen()
                || seq.numOutputTokens() + more >= seq.params().maxTokens();
    }

    private static boolean isStopToken(List<Integer> stopTokenIds, int tokenId) {
        for (int i = 0; i < stopTokenIds.size(); i++) {
            if (stopTokenIds.get(i) == tokenId) {
                return true;
            }
        }
        return false;
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
