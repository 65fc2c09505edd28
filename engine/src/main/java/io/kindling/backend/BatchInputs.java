package io.kindling.backend;

/**
 * One forward step, flattened: the scheduled tokens of every sequence, concatenated in batch order. This is the
 * contract between the engine and every backend (the CPU's and the CUDA kernels'): K/V are written only at
 * {@code slotMapping} and read only through {@code blockTables}. The engine refills these arrays for later steps (a
 * steady batch allocates nothing), so a backend reads them during its {@code forward} call only and copies what it
 * needs afterwards (a GPU backend stages them into its own buffers there).
 *
 * @param inputIds      [numTokens] token ids to run
 * @param positions     [numTokens] position of each token in its sequence
 * @param slotMapping   [numTokens] {@code blockTable[pos / B] * B + pos % B}: the cache slot each token's K/V goes to
 * @param queryStartLoc [numSeqs + 1] offsets of each sequence's tokens in {@code inputIds} (cu_seqlens_q)
 * @param seqLens       [numSeqs] each sequence's context length after this step (computed + scheduled tokens)
 * @param blockTables   [numSeqs][] physical block ids of each sequence, in logical order: at least the
 *                      {@code ceil(seqLen / B)} blocks that hold its context; entries after them are unspecified
 * @param logitsIndices token indices (into {@code inputIds}) whose logits are wanted, in output order
 */
public record BatchInputs(
        int[] inputIds,
        int[] positions,
        int[] slotMapping,
        int[] queryStartLoc,
        int[] seqLens,
        int[][] blockTables,
        int[] logitsIndices) {

    public int numTokens() {
        return inputIds.length;
    }

    public int numSeqs() {
        return seqLens.length;
    }
}
