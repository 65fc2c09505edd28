package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.driver.JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor;

import io.kindling.backend.BatchInputs;
import io.kindling.model.ModelConfig;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.CUshared_carveout;

/**
 * Attention of a step's tokens over the paged bf16 KV cache ({@code paged_attention.cu}); the CPU twin is the
 * engine's {@code io.kindling.backend.cpu.PagedAttention}. {@link #prepare} plans the step once (sequences with one
 * query token go to the decode kernel, split over their context by its length alone; the others to the causal
 * prefill kernel in 64-token query tiles) and uploads its metadata in one asynchronous copy; {@link #run} then
 * serves every layer. Every buffer {@code run} reads or writes besides its arguments sits at a fixed address
 * allocated here, sized for the worst step, so a graph captured around {@code run} stays valid for any later step of
 * the same {@link AttentionPlan#launchShape()}.
 *
 * <p>The pinned staging buffer is rewritten by the next {@code prepare}, so the caller must have synchronized the
 * stream since the previous step's upload (the backend does, every step).
 */
final class PagedAttention implements AutoCloseable {

    /** Blocks and stages of the shapes without tuned kernels (paged_attention.cu's last KD_DECODE lines). */
    private static final int UNTUNED_WARPS = 4;
    private static final int UNTUNED_STAGES = 3;
    private static final int PREFILL_THREADS = 128;
    private static final int PREFILL_TILE = 64;        // kPrefillRows = kPrefillKeys
    private static final int MAX_HEAD_DIM = 256;

    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final int blockSize;
    private final int window;
    private final float scaleLog2;
    private final int maxNumSeqs;
    private final int maxNumBatchedTokens;
    private final int maxBlocksPerSeq;
    private final int decodeHeadBlocks;
    private final DecodeTuning tuning;
    private final int decodeThreads;
    private final CUfunction decode;
    private final CUfunction prefill;
    private final int decodeSharedBytes;
    private final int prefillSharedBytes;
    private final PinnedBuffer staging;
    private final DeviceBuffer metadata;
    private final DeviceBuffer partOut;
    private final DeviceBuffer partStats;
    private final DeviceBuffer arrivals;
    private AttentionPlan plan;

    PagedAttention(KernelModule module, ModelConfig config, int blockSize, int maxNumSeqs, int maxNumBatchedTokens,
                   int maxBlocksPerSeq) {
        this(module, config, blockSize, maxNumSeqs, maxNumBatchedTokens, maxBlocksPerSeq, DecodeTuning.DEFAULT);
    }

    /**
     * @param tuning the decode split and kernel; its warps and stages apply to head dims 64 and 128 (on CUDA cores
     *               with GQA groups of at most 4), other shapes running 4 warps and 3 stages on CUDA cores
     */
    PagedAttention(KernelModule module, ModelConfig config, int blockSize, int maxNumSeqs, int maxNumBatchedTokens,
                   int maxBlocksPerSeq, DecodeTuning tuning) {
        this.numHeads = config.numAttentionHeads();
        this.numKvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        if (headDim < 2 || headDim > MAX_HEAD_DIM || headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even and at most " + MAX_HEAD_DIM + ", got "
                    + headDim);
        }
        if (numKvHeads < 1 || numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        requireRange("blockSize", blockSize, 1, Integer.MAX_VALUE);
        requireRange("maxNumSeqs", maxNumSeqs, 1, Integer.MAX_VALUE);
        requireRange("maxNumBatchedTokens", maxNumBatchedTokens, 1, Integer.MAX_VALUE);
        requireRange("maxBlocksPerSeq", maxBlocksPerSeq, 1, Integer.MAX_VALUE);
        this.blockSize = blockSize;
        this.window = config.slidingWindow().orElse(Integer.MAX_VALUE);
        this.scaleLog2 = (float) (1.0 / Math.sqrt(headDim) / Math.log(2.0));
        this.maxNumSeqs = maxNumSeqs;
        this.maxNumBatchedTokens = maxNumBatchedTokens;
        this.maxBlocksPerSeq = maxBlocksPerSeq;

        // decode: GC q heads of a GQA group per block (paged_attention.cu's decode_body). On CUDA cores GC = 4 or 8
        // sit in registers, R = 16 / GC rows per lane and tile; on tensor cores GC = 8 (an mma's rows), 16-key tiles.
        int groupSize = numHeads / numKvHeads;
        int sliceDim = headDim == 64 || headDim == 128 ? headDim : 0;
        boolean tensorCores = tuning.tensorCores() && sliceDim != 0;
        int headsInRegisters = tensorCores || groupSize > 4 ? 8 : 4;
        this.decodeHeadBlocks = numKvHeads * ((groupSize + headsInRegisters - 1) / headsInRegisters);
        boolean tuned = tensorCores || sliceDim != 0 && headsInRegisters == 4;
        int warps = tuned ? tuning.warps() : UNTUNED_WARPS;
        int stages = tuned ? tuning.stages() : UNTUNED_STAGES;
        this.tuning = tuning;
        this.decodeThreads = 32 * warps;
        int ringBytes;
        if (tensorCores) {
            this.decode = module.function("kd_paged_attention_decode_mma_hd" + headDim + "_w" + warps + "_s" + stages);
            ringBytes = warps * stages * 2 * 16 * headDim * Short.BYTES;
        } else {
            this.decode = module.function("kd_paged_attention_decode_hd" + sliceDim + "_g" + headsInRegisters + "_w"
                    + warps + "_s" + stages);
            ringBytes = warps * stages * 2 * (16 / headsInRegisters) * 32 * 16;
        }
        this.decodeSharedBytes = Math.max(ringBytes, warps * headsInRegisters * headDim * Float.BYTES);
        // the ring is most of a decode block's footprint: ask for shared memory over L1, and for more than 48 KiB
        cuFuncSetAttribute(decode, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                decodeSharedBytes);
        cuFuncSetAttribute(decode, CUfunction_attribute.CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT,
                CUshared_carveout.CU_SHAREDMEM_CARVEOUT_MAX_SHARED);
        int kSteps = 1;
        while (16 * kSteps < headDim) {
            kSteps *= 2;
        }
        this.prefill = module.function("kd_paged_attention_prefill_ks" + kSteps);
        int prefillStages = kSteps <= 8 ? 2 : 1;
        this.prefillSharedBytes = (PREFILL_TILE + 2 * prefillStages * PREFILL_TILE) * (16 * kSteps + 8) * 2;

        int maxSplit = AttentionPlan.maxPartitions(maxBlocksPerSeq, blockSize, window, tuning);
        long capacity = AttentionPlan.capacityInts(maxNumSeqs, maxNumBatchedTokens, maxBlocksPerSeq, maxSplit)
                * Integer.BYTES;
        if (capacity > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("attention metadata of " + capacity + " bytes for maxNumSeqs="
                    + maxNumSeqs + ", maxBlocksPerSeq=" + maxBlocksPerSeq + " exceeds one pinned buffer");
        }
        // every split sequence may have the most partitions; none when no context can be split
        long splitSlots = maxSplit > 1 ? (long) maxNumSeqs * maxSplit : 1;
        long partRow = (long) numHeads * ((headDim + 3) & ~3);  // float4 rows for the final combination
        PinnedBuffer pinned = PinnedBuffer.allocate((int) capacity);
        DeviceBuffer meta = null;
        DeviceBuffer out = null;
        DeviceBuffer stats = null;
        DeviceBuffer arrived = null;
        try {
            meta = DeviceBuffer.allocate(capacity);
            out = DeviceBuffer.allocate(splitSlots * partRow * Float.BYTES);
            stats = DeviceBuffer.allocate(splitSlots * numHeads * 2 * Float.BYTES);
            long counters = (long) maxNumSeqs * decodeHeadBlocks;
            arrived = DeviceBuffer.allocate(counters * Integer.BYTES);
            cuMemsetD32(arrived.ptr(), 0, counters);  // the decode kernel leaves them at zero after each launch
        } catch (RuntimeException e) {
            pinned.close();
            for (DeviceBuffer b : new DeviceBuffer[] {meta, out, stats, arrived}) {
                if (b != null) {
                    b.close();
                }
            }
            throw e;
        }
        this.staging = pinned;
        this.metadata = meta;
        this.partOut = out;
        this.partStats = stats;
        this.arrivals = arrived;
    }

    /**
     * Plans this step's attention and queues the upload of its metadata on {@code s}.
     *
     * @throws IllegalArgumentException when the batch exceeds the sizes this instance was built for or is
     *                                  inconsistent (a query longer than its context, a block table too short)
     */
    void prepare(CUstream s, BatchInputs batch) {
        prepare(s, batch, 1);
    }

    /**
     * As {@link #prepare(CUstream, BatchInputs)} with block tables of at least {@code minBlockTableStride} entries:
     * for a decode-only batch every launch of {@link #run} then depends only on (numSeqs, stride) (see
     * {@link AttentionPlan#launchShape()}), as a captured graph needs; the step's contexts, block tables and splits
     * travel in the metadata.
     */
    void prepare(CUstream s, BatchInputs batch, int minBlockTableStride) {
        requireRange("minBlockTableStride", minBlockTableStride, 1, maxBlocksPerSeq);
        check(batch);
        plan = AttentionPlan.write(batch, blockSize, window, tuning, minBlockTableStride,
                staging.buffer().asIntBuffer());
        cuMemcpyHtoDAsync(metadata.ptr(), staging.pointer(), (long) plan.numInts() * Integer.BYTES, s);
    }

    /**
     * Attention of one layer for the prepared step: q from {@code qkv} (fp32 rows of {@code qkvStride}, q heads
     * first), K/V from the layer's cache planes (this step's K/V already stored), {@code out} bf16
     * {@code [numTokens][numHeads * headDim]}.
     */
    void run(CUstream s, CUdeviceptr qkv, int qkvStride, CUdeviceptr kCache, CUdeviceptr vCache, CUdeviceptr out) {
        if (plan == null) {
            throw new IllegalStateException("prepare must run before run");
        }
        if (qkvStride < numHeads * headDim || qkvStride % 2 != 0) {
            throw new IllegalArgumentException("qkvStride must be even and hold the " + numHeads * headDim
                    + " query floats, got " + qkvStride);
        }
        CUdeviceptr seqLens = ints(plan.seqLensAt());
        CUdeviceptr queryStartLoc = ints(plan.queryStartLocAt());
        CUdeviceptr blockTables = ints(plan.blockTablesAt());
        if (plan.numDecode() > 0) {
            Launch.kernel(decode, s, Math.multiplyExact(plan.workSlots(), decodeHeadBlocks), 1, 1, decodeThreads,
                    decodeSharedBytes, qkv, qkvStride, kCache, vCache, blockTables, plan.blockTableStride(),
                    ints(plan.workAt()), numHeads, numKvHeads, headDim, blockSize, scaleLog2,
                    tuning.headsFastest() ? 1 : 0, out, partOut.ptr(), partStats.ptr(), arrivals.ptr());
        }
        if (plan.numTiles() > 0) {
            Launch.kernel(prefill, s, plan.numTiles(), numHeads, 1, PREFILL_THREADS, prefillSharedBytes, qkv,
                    qkvStride, kCache, vCache, blockTables, plan.blockTableStride(), seqLens, queryStartLoc,
                    ints(plan.tilesAt()), numHeads, numKvHeads, headDim, blockSize, scaleLog2, window, out);
        }
    }

    private CUdeviceptr ints(int offset) {
        return metadata.at((long) offset * Integer.BYTES);
    }

    /** The prepared step's plan (for tests and benchmarks). */
    AttentionPlan plan() {
        return plan;
    }

    /** Decode blocks one multiprocessor holds at once (for benchmarks). */
    int decodeBlocksPerSm() {
        int[] blocks = new int[1];
        cuOccupancyMaxActiveBlocksPerMultiprocessor(blocks, decode, decodeThreads, decodeSharedBytes);
        return blocks[0];
    }

    private void check(BatchInputs batch) {
        int numSeqs = batch.numSeqs();
        if (numSeqs > maxNumSeqs || batch.numTokens() > maxNumBatchedTokens) {
            throw new IllegalArgumentException("batch of " + numSeqs + " sequences and " + batch.numTokens()
                    + " tokens exceeds maxNumSeqs=" + maxNumSeqs + ", maxNumBatchedTokens=" + maxNumBatchedTokens);
        }
        int[] qsl = batch.queryStartLoc();
        // its arrays' lengths fit numSeqs and numTokens by construction (BatchInputs)
        if (qsl[0] != 0 || qsl[numSeqs] != batch.numTokens()) {
            throw new IllegalArgumentException("queryStartLoc must run from 0 to numTokens = " + batch.numTokens()
                    + " over numSeqs + 1 = " + (numSeqs + 1) + " entries");
        }
        for (int s = 0; s < numSeqs; s++) {
            int qLen = qsl[s + 1] - qsl[s];
            int ctx = batch.seqLens()[s];
            int blocks = (ctx + blockSize - 1) / blockSize;
            if (qLen < 0 || qLen > ctx) {
                throw new IllegalArgumentException("sequence " + s + " has " + qLen + " query tokens but a context of "
                        + ctx);
            }
            if (blocks > maxBlocksPerSeq || batch.blockTables()[s].length < blocks) {
                throw new IllegalArgumentException("sequence " + s + " with context " + ctx + " needs " + blocks
                        + " blocks; its table has " + batch.blockTables()[s].length + ", maxBlocksPerSeq="
                        + maxBlocksPerSeq);
            }
        }
    }

    private static void requireRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], got " + value);
        }
    }

    @Override
    public void close() {
        staging.close();
        metadata.close();
        partOut.close();
        partStats.close();
        arrivals.close();
    }
}
