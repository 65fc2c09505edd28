package io.kindling.backend;

/**
 * The step limits of an engine: most sequences in a step and its token budget. {@link #AUTO} (0) in either asks
 * for the device's default: on the CPU 256 sequences and 2,048 tokens; on a GPU of 70 GiB or more (H100, H200)
 * 1,024 sequences and 16,384 tokens, as vLLM V1 sets them for offline runs on large GPUs, since there the KV cache,
 * not the sequence limit, should bound the batch; on a smaller GPU 256 and 8,192.
 */
public record BatchLimits(int maxNumSeqs, int maxNumBatchedTokens) {

    public static final int AUTO = 0;
    public static final BatchLimits CPU = new BatchLimits(256, 2048);
    private static final long LARGE_GPU_BYTES = 70L << 30;

    public BatchLimits {
        if (maxNumSeqs < 0 || maxNumBatchedTokens < 0) {
            throw new IllegalArgumentException("max_num_seqs and max_num_batched_tokens must be positive (or 0 for "
                    + "auto), got " + maxNumSeqs + " and " + maxNumBatchedTokens);
        }
    }

    /** The defaults of a GPU with {@code memoryBytes} of memory. */
    public static BatchLimits gpu(long memoryBytes) {
        return memoryBytes >= LARGE_GPU_BYTES ? new BatchLimits(1024, 16384) : new BatchLimits(256, 8192);
    }

    /** These limits with each {@link #AUTO} replaced by the default's. */
    public BatchLimits orDefaults(BatchLimits defaults) {
        return new BatchLimits(maxNumSeqs == AUTO ? defaults.maxNumSeqs : maxNumSeqs,
                maxNumBatchedTokens == AUTO ? defaults.maxNumBatchedTokens : maxNumBatchedTokens);
    }
}
