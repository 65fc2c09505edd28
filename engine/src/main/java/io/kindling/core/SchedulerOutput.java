package io.kindling.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * What one step runs, handed from the scheduler to the model runner and back to {@link Scheduler#postprocess}: the
 * scheduled sequences in batch order, each with its next {@code numScheduledTokens} uncomputed tokens from position
 * {@code numComputedTokens} on. The scheduler refills one instance every step (no objects per sequence and step), so
 * it is valid until the next {@link Scheduler#schedule}.
 */
final class SchedulerOutput {

    private static final int[] NO_COPIES = new int[0];

    private Sequence[] seqs = new Sequence[16];
    private int[] numScheduledTokens = new int[16];
    /** Whether the step reaches the sequence's last token, so its logits there yield a new token. */
    private boolean[] samples = new boolean[16];
    private int size;
    private int numSampling;
    private int totalNumScheduledTokens;
    private final List<Sequence> preempted = new ArrayList<>();
    private int[] copySrc = NO_COPIES;
    private int[] copyDst = NO_COPIES;

    /** Empties it for the next step. */
    void clear() {
        Arrays.fill(seqs, 0, size, null); // holds no finished sequence alive
        size = 0;
        numSampling = 0;
        totalNumScheduledTokens = 0;
        preempted.clear();
        copySrc = NO_COPIES;
        copyDst = NO_COPIES;
    }

    /** Schedules {@code seq}'s next {@code numTokens} tokens, behind the sequences added before it. */
    void add(Sequence seq, int numTokens) {
        if (size == seqs.length) {
            seqs = Arrays.copyOf(seqs, 2 * size);
            numScheduledTokens = Arrays.copyOf(numScheduledTokens, 2 * size);
            samples = Arrays.copyOf(samples, 2 * size);
        }
        boolean sampling = seq.numComputedTokens() + numTokens == seq.numTokens();
        seqs[size] = seq;
        numScheduledTokens[size] = numTokens;
        samples[size] = sampling;
        size++;
        numSampling += sampling ? 1 : 0;
        totalNumScheduledTokens += numTokens;
    }

    void addPreempted(Sequence seq) {
        preempted.add(seq);
    }

    /**
     * The copy-on-write block copies to make, in order, before the forward pass (vLLM's {@code blocks_to_copy}):
     * block {@code src[i]} into block {@code dst[i]}.
     */
    void setCopies(int[] src, int[] dst) {
        if (src.length != dst.length) {
            throw new IllegalArgumentException(src.length + " copy sources for " + dst.length + " destinations");
        }
        copySrc = src;
        copyDst = dst;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The scheduled sequences, each with at least one token. */
    int numScheduled() {
        return size;
    }

    /** The {@code i}-th scheduled sequence in batch order. */
    Sequence seq(int i) {
        return seqs[Objects.checkIndex(i, size)];
    }

    int numScheduledTokens(int i) {
        return numScheduledTokens[Objects.checkIndex(i, size)];
    }

    /** Whether the {@code i}-th sequence samples: false for all but the last chunk of a chunked prefill. */
    boolean samples(int i) {
        return samples[Objects.checkIndex(i, size)];
    }

    int totalNumScheduledTokens() {
        return totalNumScheduledTokens;
    }

    /** How many scheduled sequences sample a token: the length {@code postprocess} expects. */
    int numSampling() {
        return numSampling;
    }

    boolean hasPreempted() {
        return !preempted.isEmpty();
    }

    /** Sequences that lost their blocks in this step and went back to waiting. */
    List<Sequence> preempted() {
        return Collections.unmodifiableList(preempted);
    }

    int[] copySrc() {
        return copySrc;
    }

    int[] copyDst() {
        return copyDst;
    }
}
