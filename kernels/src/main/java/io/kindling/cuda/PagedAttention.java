package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuCtxGetDevice;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import io.kindling.backend.BatchInputs;
import io.kindling.model.ModelConfig;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * Attention of a step's tokens over the paged bf16 KV cache ({@code paged_attention.cu}); the CPU twin is the
 * engine's {@code io.kindling.backend.cpu.PagedAttention}. {@link #prepare} plans the step once (sequences with one
 * query token go to the decode kernel, split over their context; the others to the causal prefill kernel in
 * 64-token query tiles) and uploads its metadata in one asynchronous copy; {@link #run} then serves every layer.
 *
 * <p>The pinned staging buffer is rewritten by the next {@code prepare}, so the caller must have synchronized the
 * stream since the previous step's upload (the backend does, every step).
 */
final class PagedAttention implements AutoCloseable {

    private static final int DECODE_THREADS = 128;
    private static final int PREFILL_THREADS = 128;
    private static final int DECODE_CHUNK = 256;       // kChunk in paged_attention.cu
    private static final int DECODE_WARPS = DECODE_THREADS / 32;
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
    private final int headChunks;
    private final int numSms;
    private final CUfunction decode;
    private final CUfunction reduce;
    private final CUfunction prefill;
    private final int decodeSharedBytes;
    private final int prefillSharedBytes;
    private final PinnedBuffer staging;
    private final DeviceBuffer metadata;
    private final DeviceBuffer partOut;
    private final DeviceBuffer partStats;
    private AttentionPlan plan;

    PagedAttention(KernelModule module, ModelConfig config, int blockSize, int maxNumSeqs, int maxNumBatchedTokens,
                   int maxBlocksPerSeq) {
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
        requireRange("maxNumSeqs", maxNumSeqs, 1, 65535);  // the decode grid's z
        requireRange("maxNumBatchedTokens", maxNumBatchedTokens, 1, Integer.MAX_VALUE);
        requireRange("maxBlocksPerSeq", maxBlocksPerSeq, 1, Integer.MAX_VALUE);
        this.blockSize = blockSize;
        this.window = config.slidingWindow().orElse(Integer.MAX_VALUE);
        this.scaleLog2 = (float) (1.0 / Math.sqrt(headDim) / Math.log(2.0));
        this.maxNumSeqs = maxNumSeqs;
        this.maxNumBatchedTokens = maxNumBatchedTokens;
        this.maxBlocksPerSeq = maxBlocksPerSeq;

        int groupSize = numHeads / numKvHeads;
        int headsInRegisters = groupSize <= 4 ? 4 : 8;
        this.headChunks = (groupSize + headsInRegisters - 1) / headsInRegisters;
        int sliceDim = headDim == 64 || headDim == 128 ? headDim : 0;
        this.decode = module.function("kd_paged_attention_decode_hd" + sliceDim + "_g" + headsInRegisters);
        this.reduce = module.function("kd_paged_attention_decode_reduce");
        this.decodeSharedBytes = Float.BYTES * Math.max(headsInRegisters * DECODE_CHUNK,
                DECODE_WARPS * headsInRegisters * headDim);
        int kSteps = 1;
        while (16 * kSteps < headDim) {
            kSteps *= 2;
        }
        this.prefill = module.function("kd_paged_attention_prefill_ks" + kSteps);
        int stages = kSteps <= 8 ? 2 : 1;
        this.prefillSharedBytes = (PREFILL_TILE + 2 * stages * PREFILL_TILE) * (16 * kSteps + 8) * 2;

        CUdevice device = new CUdevice();
        cuCtxGetDevice(device);
        int[] sms = new int[1];
        cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        this.numSms = sms[0];

        long capacity = AttentionPlan.capacityInts(maxNumSeqs, maxNumBatchedTokens, maxBlocksPerSeq) * Integer.BYTES;
        if (capacity > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("attention metadata of " + capacity + " bytes for maxNumSeqs="
                    + maxNumSeqs + ", maxBlocksPerSeq=" + maxBlocksPerSeq + " exceeds one pinned buffer");
        }
        long partitionSlots = (long) maxNumSeqs * numHeads * AttentionPlan.MAX_PARTITIONS;
        PinnedBuffer pinned = PinnedBuffer.allocate((int) capacity);
        DeviceBuffer meta = null;
        DeviceBuffer out = null;
        DeviceBuffer stats = null;
        try {
            meta = DeviceBuffer.allocate(capacity);
            out = DeviceBuffer.allocate(partitionSlots * headDim * Float.BYTES);
            stats = DeviceBuffer.allocate(partitionSlots * 2 * Float.BYTES);
        } catch (RuntimeException e) {
            pinned.close();
            for (DeviceBuffer b : new DeviceBuffer[] {meta, out, stats}) {
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
     * for a decode-only batch, the launches then depend only on (numSeqs, stride), as a captured graph needs.
     */
    void prepare(CUstream s, BatchInputs batch, int minBlockTableStride) {
        check(batch);
        plan = AttentionPlan.write(batch, blockSize, window, numKvHeads * headChunks, numSms, minBlockTableStride,
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
        CUdeviceptr seqLens = metadata.at((long) plan.seqLensAt() * Integer.BYTES);
        CUdeviceptr queryStartLoc = metadata.at((long) plan.queryStartLocAt() * Integer.BYTES);
        CUdeviceptr blockTables = metadata.at((long) plan.blockTablesAt() * Integer.BYTES);
        if (plan.numDecode() > 0) {
            CUdeviceptr decodeSeqs = metadata.at((long) plan.decodeSeqsAt() * Integer.BYTES);
            Launch.kernel(decode, s, plan.decodePartitions(), numKvHeads * headChunks, plan.numDecode(),
                    DECODE_THREADS, decodeSharedBytes, qkv, qkvStride, kCache, vCache, blockTables,
                    plan.blockTableStride(), seqLens, queryStartLoc, decodeSeqs, numHeads, numKvHeads, headDim,
                    blockSize, scaleLog2, window, plan.partitionTokens(), out, partOut.ptr(), partStats.ptr());
            if (plan.splitDecode()) {
                Launch.kernel(reduce, s, numHeads, plan.numDecode(), 1, DECODE_THREADS, 0, partOut.ptr(),
                        partStats.ptr(), seqLens, queryStartLoc, decodeSeqs, numHeads, headDim, window,
                        plan.partitionTokens(), out);
            }
        }
        if (plan.numTiles() > 0) {
            CUdeviceptr tiles = metadata.at((long) plan.tilesAt() * Integer.BYTES);
            Launch.kernel(prefill, s, plan.numTiles(), numHeads, 1, PREFILL_THREADS, prefillSharedBytes, qkv,
                    qkvStride, kCache, vCache, blockTables, plan.blockTableStride(), seqLens, queryStartLoc, tiles,
                    numHeads, numKvHeads, headDim, blockSize, scaleLog2, window, out);
        }
    }

    /** The prepared step's plan (for tests and benchmarks). */
    AttentionPlan plan() {
        return plan;
    }

    private void check(BatchInputs batch) {
        int numSeqs = batch.numSeqs();
        if (numSeqs > maxNumSeqs || batch.numTokens() > maxNumBatchedTokens) {
            throw new IllegalArgumentException("batch of " + numSeqs + " sequences and " + batch.numTokens()
                    + " tokens exceeds maxNumSeqs=" + maxNumSeqs + ", maxNumBatchedTokens=" + maxNumBatchedTokens);
        }
        int[] qsl = batch.queryStartLoc();
        if (qsl.length != numSeqs + 1 || qsl[0] != 0 || qsl[numSeqs] != batch.numTokens()
                || batch.blockTables().length != numSeqs) {
            throw new IllegalArgumentException("queryStartLoc must have numSeqs + 1 = " + (numSeqs + 1)
                    + " entries from 0 to numTokens = " + batch.numTokens() + " and blockTables one per sequence");
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
    }
}
