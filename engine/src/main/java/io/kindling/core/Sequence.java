package io.kindling.core;

import io.kindling.sampling.SamplingParams;
import java.util.Optional;

/**
 * The mutable state of one request: its tokens (prompt, then output), how many of them have their K/V in the
 * cache ({@code numComputedTokens}), the block table mapping its logical blocks to physical ones, and its
 * status. The scheduler schedules tokens so that {@code numComputedTokens} catches up with {@code numTokens}:
 * <pre>
 *   | computed (K/V cached)        | not yet computed |
 *   0                numComputedTokens          numTokens
 *   block table: logical block i holds the K/V of positions [i * B, (i + 1) * B)
 * </pre>
 */
final class Sequence {

    private final String requestId;
    private final long seqId;
    private final int numPromptTokens;
    private final SamplingParams params;
    private final IntList tokenIds;
    private final IntList blockTable = new IntList(8);
    private int numComputedTokens;
    private SequenceStatus status = SequenceStatus.WAITING;
    private FinishReason finishReason;
    private int numPreemptions;

    /**
     * @param seqId arrival order; the scheduler serves and preempts by it
     * @throws InvalidRequestException if the prompt is empty
     */
    Sequence(String requestId, long seqId, int[] promptTokenIds, SamplingParams params) {
        if (promptTokenIds.length == 0) {
            throw new InvalidRequestException(requestId, "the prompt is empty");
        }
        this.requestId = requestId;
        this.seqId = seqId;
        this.numPromptTokens = promptTokenIds.length;
        this.params = params;
        this.tokenIds = IntList.of(promptTokenIds);
    }

    String requestId() {
        return requestId;
    }

    long seqId() {
        return seqId;
    }

    SamplingParams params() {
        return params;
    }

    /** Prompt plus output tokens. */
    int numTokens() {
        return tokenIds.size();
    }

    int numPromptTokens() {
        return numPromptTokens;
    }

    int numOutputTokens() {
        return tokenIds.size() - numPromptTokens;
    }

    /** Token {@code i} of prompt-then-output. */
    int tokenId(int i) {
        return tokenIds.get(i);
    }

    int lastTokenId() {
        return tokenIds.get(tokenIds.size() - 1);
    }

    /** A copy of all token ids, prompt then output. */
    int[] tokenIds() {
        return tokenIds.toArray();
    }

    int[] promptTokenIds() {
        return tokenIds.copyOfRange(0, numPromptTokens);
    }

    int[] outputTokenIds() {
        return tokenIds.copyOfRange(numPromptTokens, tokenIds.size());
    }

    /** Tokens whose K/V are in this sequence's blocks. */
    int numComputedTokens() {
        return numComputedTokens;
    }

    /** Number of blocks in the block table. */
    int numBlocks() {
        return blockTable.size();
    }

    /** The physical block holding logical block {@code i}. */
    int blockId(int i) {
        return blockTable.get(i);
    }

    /** A copy of the block table. */
    int[] blockTable() {
        return blockTable.toArray();
    }

    SequenceStatus status() {
        return status;
    }

    boolean isFinished() {
        return status == SequenceStatus.FINISHED;
    }

    /** Present once the sequence is finished. */
    Optional<FinishReason> finishReason() {
        return Optional.ofNullable(finishReason);
    }

    /** How many times this sequence lost its blocks and went back to waiting. */
    int numPreemptions() {
        return numPreemptions;
    }

    void appendTokenId(int tokenId) {
        tokenIds.add(tokenId);
    }

    void addComputedTokens(int n) {
        if (n < 0 || numComputedTokens + n > tokenIds.size()) {
            throw new IllegalStateException("request " + requestId + ": cannot compute " + n + " more tokens, "
                    + numComputedTokens + " of " + tokenIds.size() + " are computed");
        }
        numComputedTokens += n;
    }

    void appendBlockId(int blockId) {
        blockTable.add(blockId);
    }

    void clearBlockTable() {
        blockTable.clear();
    }

    void setRunning() {
        status = SequenceStatus.RUNNING;
    }

    /** Recompute-style preemption: the caller has freed the blocks; every token is computed again later. */
    void preempt() {
        status = SequenceStatus.WAITING;
        numComputedTokens = 0;
        numPreemptions++;
    }

    void finish(FinishReason reason) {
        status = SequenceStatus.FINISHED;
        finishReason = reason;
    }

    @Override
    public String toString() {
        return "Sequence(" + requestId + ", " + status + ", computed " + numComputedTokens + "/" + numTokens() + ")";
    }
}
