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
     * 2-warp blocks give 8 blocks a multiprocessor (1,056 on 132), so a step of about 64k keys in partitions of 512
     * (1,024 blocks at 8 kv heads) runs in one wave, its blocks' start and tail paid once; 64 partitions let one 32k
     * context fill 512 blocks. Two cp.async stages: {@code AttentionBench --sweep} on an H200 (2026-12-06,
     * benchmarks/logs/attention-sweep-h200-2026-12-06-s3.txt) put this tuning among the best at batch 256 (72-78%
     * of copy on both shapes) while keeping the 32k single sequence at 42-54%, where 1,024-key partitions fall to
     * 35-42%; three stages measured 1-3 points lower on most cases. The key loop on tensor cores: it takes the
     * score and output arithmetic off the CUDA cores, which at 2 warps a block were the limit (more bytes in flight,
     * from more stages or warps, measured slower, not faster).
     */
    static final DecodeTuning DEFAULT = new DecodeTuning(2, 2, 512, 64, true, true);

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
