package io.kindling.core;

import io.kindling.sampling.SamplingParams;
import java.util.Arrays;
import java.util.Objects;
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
 * For prefix caching it also carries the chained hashes of its full blocks ({@code blockHashes}, which depend on
 * its tokens only and so survive preemption) and how many of its table's blocks are in the cache.
 */
final class Sequence {

    private static final int OUTPUT_ROOM = 8192;
    /** Tokens per block-table entry that the table's initial room assumes: the default block size (smaller regrow). */
    private static final int BLOCK_ROOM = 16;

    private final String requestId;
    private final long seqId;
    private final int numPromptTokens;
    private final SamplingParams params;
    private final IntList tokenIds;
    private final Optional<String> cacheSalt;
    private final IntList blockTable;
    /** The first {@code numBlockHashes} are set; primitive so that a block filling up allocates no hash object. */
    private long[] blockHashes;
    private int numBlockHashes;
    private int numCachedBlocks;
    private long cachedPrefixId = KvCacheBlock.NO_PARENT;
    private int numComputedTokens;
    private SequenceStatus status = SequenceStatus.WAITING;
    private FinishReason finishReason;
    private int numPreemptions;
    /**
     * Asynchronous scheduling: the last token was drawn by draw {@code pendingDraw} of a step still on the device,
     * and its id is not known here yet ({@link #PENDING} stands in for it); -1 when none is.
     */
    private int pendingDraw = -1;
    static final int PENDING = -1;

    /**
     * @param seqId arrival order; the scheduler serves and preempts by it
     * @throws InvalidRequestException if the prompt is empty
     */
    Sequence(String requestId, long seqId, int[] promptTokenIds, SamplingParams params) {
        this(requestId, seqId, promptTokenIds, params, Optional.empty());
    }

    /**
     * @param cacheSalt if present, this sequence shares cached blocks only with sequences of the same salt
     *     (vLLM's {@code cache_salt}: tenants that must not see each other's prompts through timing)
     */
    Sequence(String requestId, long seqId, int[] promptTokenIds, SamplingParams params, Optional<String> cacheSalt) {
        this(requestId, seqId, nonEmpty(requestId, promptTokenIds), params, cacheSalt, promptTokenIds.length);
    }

    private static int[] nonEmpty(String requestId, int[] promptTokenIds) {
        if (promptTokenIds.length == 0) {
            throw new InvalidRequestException(requestId, "the prompt is empty");
        }
        return promptTokenIds;
    }

    /**
     * Room for the prompt, up to {@link #OUTPUT_ROOM} output tokens and a pending one, so that decoding does not
     * regrow the token list (each regrowth copies it whole); a longer output grows it as it goes.
     */
    private static int capacity(int numPromptTokens, SamplingParams params) {
        return numPromptTokens + Math.min(params.maxTokens(), OUTPUT_ROOM) + 1;
    }

    /**
     * A running copy of this sequence, for a parallel sample or a beam: the same tokens, all computed, and the
     * hashes of its full blocks; its block table is empty until {@link KvCacheManager#fork} shares this one's.
     * A running sequence forks when every token is computed, so the copies diverge only from the next token on; a
     * waiting one (preempted) forks into another waiting one.
     */
    Sequence fork() {
        if (hasPendingToken()) {
            throw new IllegalStateException("request " + requestId + ": cannot fork before its last token is known");
        }
        if (status == SequenceStatus.RUNNING && numComputedTokens != tokenIds.size()) {
            throw new IllegalStateException("request " + requestId + ": cannot fork with " + numComputedTokens
                    + " of " + tokenIds.size() + " tokens computed");
        }
        Sequence child = new Sequence(requestId, seqId, tokenIds.toArray(), params, cacheSalt, numPromptTokens);
        for (int i = 0; i < numBlockHashes; i++) {
            child.appendBlockHash(blockHashes[i]);
        }
        child.numComputedTokens = numComputedTokens;
        child.status = status;
        return child;
    }

    /** The prompt's tokens then any output already drawn ({@link #fork}), the first {@code numPromptTokens} prompt. */
    private Sequence(String requestId, long seqId, int[] tokenIds, SamplingParams params, Optional<String> cacheSalt,
                     int numPromptTokens) {
        this.requestId = requestId;
        this.seqId = seqId;
        this.numPromptTokens = numPromptTokens;
        this.params = params;
        this.tokenIds = IntList.of(tokenIds, capacity(numPromptTokens, params));
        this.cacheSalt = cacheSalt;
        this.blockTable = new IntList(this.tokenIds.capacity() / BLOCK_ROOM);
        this.blockHashes = new long[this.tokenIds.capacity() / BLOCK_ROOM];
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

    /** A copy of token ids {@code [from, to)}. */
    int[] tokenIds(int from, int to) {
        return tokenIds.copyOfRange(from, to);
    }

    /** Copies token ids {@code [from, from + dst.length)} into {@code dst}. */
    void copyTokenIds(int from, int[] dst) {
        tokenIds.copyInto(from, dst);
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

    /**
     * The block table's own storage, for the model runner's inputs: its first {@link #numBlocks} entries are the table,
     * the rest unspecified. Read-only, and valid until the table next changes (no copy per sequence and step).
     */
    int[] blockTableView() {
        return blockTable.backingArray();
    }

    Optional<String> cacheSalt() {
        return cacheSalt;
    }

    /** Hashes computed so far, of full blocks 0, 1, ...: at most {@code numTokens / B}. */
    int numBlockHashes() {
        return numBlockHashes;
    }

    long blockHash(int i) {
        return blockHashes[Objects.checkIndex(i, numBlockHashes)];
    }

    void appendBlockHash(long hash) {
        if (numBlockHashes == blockHashes.length) {
            blockHashes = Arrays.copyOf(blockHashes, Math.max(4, 2 * numBlockHashes));
        }
        blockHashes[numBlockHashes++] = hash;
    }

    /** How many blocks at the front of the table are in the prefix cache (or duplicate cached ones). */
    int numCachedBlocks() {
        return numCachedBlocks;
    }

    /** The cache id naming the content of the first {@link #numCachedBlocks} blocks; the next block's parent. */
    long cachedPrefixId() {
        return cachedPrefixId;
    }

    void setCachedPrefix(int numBlocks, long prefixId) {
        if (numBlocks < numCachedBlocks || numBlocks > blockTable.size()) {
            throw new IllegalStateException("request " + requestId + ": " + numBlocks + " cached blocks, "
                    + numCachedBlocks + " were cached and the table has " + blockTable.size());
        }
        numCachedBlocks = numBlocks;
        cachedPrefixId = prefixId;
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

    /** Appends the token that draw {@code drawIndex} of the step on the device is drawing, not yet known here. */
    void appendPendingToken(int drawIndex) {
        if (hasPendingToken()) {
            throw new IllegalStateException("request " + requestId + " already waits for a token");
        }
        tokenIds.add(PENDING);
        pendingDraw = drawIndex;
    }

    boolean hasPendingToken() {
        return pendingDraw >= 0;
    }

    /** The draw of the step on the device whose token is this sequence's last. */
    int pendingDraw() {
        return pendingDraw;
    }

    /** The pending last token has arrived. */
    void resolvePendingToken(int tokenId) {
        if (!hasPendingToken()) {
            throw new IllegalStateException("request " + requestId + " waits for no token");
        }
        tokenIds.set(tokenIds.size() - 1, tokenId);
        pendingDraw = -1;
    }

    /** Tokens whose ids are known here: all but a pending last one. Only these are hashed for the prefix cache. */
    int numKnownTokens() {
        return tokenIds.size() - (hasPendingToken() ? 1 : 0);
    }

    void addComputedTokens(int n) {
        if (n < 0 || numComputedTokens + n > tokenIds.size()) {
            throw new IllegalStateException("request " + requestId + ": cannot compute " + n + " more tokens, "
                    + numComputedTokens + " of " + tokenIds.size() + " are computed");
        }
        numComputedTokens += n;
    }

    /** Points logical block {@code i} at another physical block (copy-on-write). */
    void setBlockId(int i, int blockId) {
        blockTable.set(i, blockId);
    }

    void appendBlockId(int blockId) {
        blockTable.add(blockId);
    }

    void clearBlockTable() {
        blockTable.clear();
        numCachedBlocks = 0;
        cachedPrefixId = KvCacheBlock.NO_PARENT;
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
