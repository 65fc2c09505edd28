package io.kindling.cuda;

/**
 * How the paged decode kernel divides its work (paged_attention.cu's decode_body): how a sequence's context is
 * split into partitions (a function of that context alone, so a sequence's output bits never depend on its batch),
 * and how a block streams one partition.
 *
 * @param warps           warps a block (2, 4 or 8); blocks per multiprocessor scale as 1 / warps (registers)
 * @param stages          cp.async tiles in flight per warp (2, 3 or 4)
 * @param partitionTokens keys a partition holds, until a context needs more than {@code maxPartitions}
 * @param maxPartitions   most partitions of one context (at most {@link AttentionPlan#MAX_PARTITIONS})
 * @param headsFastest    the blocks of one partition's kv heads are launched together (they read adjacent memory
 *                        and the same block-table entries), rather than one kv head's partitions
 * @param tensorCores     the key loop on tensor cores (mma.sync; head dims 64 and 128, 2 or 4 warps, 2 or 3
 *                        stages) rather than on CUDA cores
 */
record DecodeTuning(int warps, int stages, int partitionTokens, int maxPartitions, boolean headsFastest,
                    boolean tensorCores) {

    /**
     * The key loop on tensor cores, 2-warp blocks (8 a multiprocessor at head dim 64, 6 at 128: shared memory), 2
     * cp.async stages, partitions of 1,024 keys up to 32: {@code AttentionBench --sweep} on an H200 (2026-12-06,
     * bundle ee83da5, benchmarks/logs/attention-sweep-h200-2026-12-06-s4.txt) put it first or within 4 points of the best on every
     * case of both shapes (71-88% of copy at 512-8192 keys, 53% (1B) and 68% (8B) for one 32k context), and above
     * every CUDA-core tuning on every case: on CUDA cores the score and output arithmetic, not the bytes in flight,
     * was the limit (more stages or warps measured slower).
     */
    static final DecodeTuning DEFAULT = new DecodeTuning(2, 2, 1024, 32, true, true);

    DecodeTuning {
        if (warps != 2 && warps != 4 && warps != 8) {
            throw new IllegalArgumentException("decode warps must be 2, 4 or 8, got " + warps);
        }
        if (stages < 2 || stages > 4) {
            throw new IllegalArgumentException("decode stages must be in [2, 4], got " + stages);
        }
        if (partitionTokens < 16) {
            throw new IllegalArgumentException("partitionTokens must be at least 16, got " + partitionTokens);
        }
        if (tensorCores && (warps > 4 || stages > 3)) {
            throw new IllegalArgumentException("tensor-core decode runs 2 or 4 warps and 2 or 3 stages, got " + warps
                    + " warps and " + stages + " stages");
        }
        if (maxPartitions < 1 || maxPartitions > AttentionPlan.MAX_PARTITIONS) {
            throw new IllegalArgumentException("maxPartitions must be in [1, " + AttentionPlan.MAX_PARTITIONS
                    + "], got " + maxPartitions);
        }
    }

    /** Partitions of a decode sequence whose visible keys number {@code span} (at least 1). */
    int partitions(int span) {
        return Math.min(maxPartitions, (span + partitionTokens - 1) / partitionTokens);
    }

    @Override
    public String toString() {
        return "w" + warps + " s" + stages + " p" + partitionTokens + " m" + maxPartitions
                + (headsFastest ? " heads" : " items") + (tensorCores ? " tc" : "");
    }
}
