package io.kindling.cuda;

import io.kindling.backend.BatchInputs;

/**
 * The largest step the engine may schedule, as vLLM's profile run builds it: {@code maxTokens} prompt tokens
 * shared out over as many sequences as may run at once, each asking for the logits of its last token, on a cache
 * of exactly the blocks they fill.
 *
 * @param numBlocks blocks the batch writes into, numbered from 0
 */
record ProfileBatch(BatchInputs inputs, int numBlocks) {

    static ProfileBatch of(int maxTokens, int maxSeqs, int blockSize) {
        if (maxTokens < 1 || maxSeqs < 1 || blockSize < 1) {
            throw new IllegalArgumentException("profile batch of " + maxTokens + " tokens, " + maxSeqs
                    + " sequences, block size " + blockSize);
        }
        int numSeqs = Math.min(maxSeqs, maxTokens);
        int[] ids = new int[maxTokens];
        int[] positions = new int[maxTokens];
        int[] slots = new int[maxTokens];
        int[] queryStartLoc = new int[numSeqs + 1];
        int[] seqLens = new int[numSeqs];
        int[][] blockTables = new int[numSeqs][];
        int[] logitsIndices = new int[numSeqs];
        int token = 0;
        int nextBlock = 0;
        for (int s = 0; s < numSeqs; s++) {
            int len = maxTokens / numSeqs + (s < maxTokens % numSeqs ? 1 : 0);
            int[] table = new int[(len + blockSize - 1) / blockSize];
            for (int b = 0; b < table.length; b++) {
                table[b] = nextBlock++;
            }
            for (int pos = 0; pos < len; pos++, token++) {
                positions[token] = pos;
                slots[token] = table[pos / blockSize] * blockSize + pos % blockSize;
            }
            queryStartLoc[s + 1] = token;
            seqLens[s] = len;
            blockTables[s] = table;
            logitsIndices[s] = token - 1;
        }
        return new ProfileBatch(new BatchInputs(ids, positions, slots, queryStartLoc, seqLens, blockTables,
                logitsIndices), nextBlock);
    }
}
