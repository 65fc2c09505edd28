package io.kindling.cuda;

import io.kindling.backend.BatchInputs;
import io.kindling.backend.DeferredTokens;
import io.kindling.backend.TensorParallelPlan.Shard;
import io.kindling.backend.TensorParallelPlan.Slice;
import io.kindling.cuda.StepMarks.Op;
import io.kindling.model.ModelConfig;
import io.kindling.model.Weights;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * One tensor-parallel rank of the CUDA backend: a GPU's context and stream, its {@link Shard} of the weights, its
 * KV cache of its KV heads (the same block ids on every rank, so one block table serves all), its step buffers and
 * its kernels (a module lives in the context it was loaded into). {@code CudaBackend} queues a step rank by rank
 * between the all-reduces; with one rank the launches are the single-GPU model's, in the same order.
 *
 * <p>Each method queues on this rank's stream and returns; its context must be current.
 */
final class CudaRank implements AutoCloseable {

    final int rank;
    final CudaContext context;
    /** The model as this rank computes it: its query heads, KV heads and MLP features; the rest whole. */
    final ModelConfig local;
    /** The rank's slice of the vocabulary: its columns of the logits. */
    final Slice vocab;
    final StepBuffers buffers;
    final PagedAttention attention;
    private final int qkvWidth;
    private final float eps;
    private final StepMarks marks;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Gemm gemm;
    private final Elementwise elementwise;
    private final KvCacheKernels kvKernels;
    private final DeviceWeights weights;
    private final StagedInts blockPairs;
    /** PagedAttention rewrites its pinned metadata in every prepare: the previous step's copy must have run. */
    private final CopyFence attentionInputs;
    private DeviceKvCache cache;

    /**
     * Loads the kernels and uploads the shard in {@code context}, which it makes current; closing the rank frees
     * them (the context is the backend's).
     *
     * @param logitsWidth the row width of this rank's logits buffer: the whole vocabulary on rank 0, which gathers
     *                    the others' slices into it, else its own slice
     */
    CudaRank(CudaContext context, ModelConfig config, Shard shard, Weights checkpointWeights, int maxTokens,
             int maxRows, int blockSize, int maxBlocksPerSeq, int logitsWidth, StepMarks marks) {
        this.rank = shard.rank();
        this.context = context;
        this.local = localConfig(config, shard);
        this.vocab = shard.vocab();
        this.qkvWidth = local.qSize() + 2 * local.kvSize();
        this.eps = (float) config.rmsNormEps();
        this.marks = marks;
        context.makeCurrent();
        try {
            // every kernel first: a build without nvcc fails here, before gigabytes of weights move
            gemm = own(new Gemm(KernelModule.load("gemm"), Gemm.WORKSPACE_BYTES));
            elementwise = Elementwise.load();
            kvKernels = new KvCacheKernels(KernelModule.load("kv_cache"));
            attention = own(new PagedAttention(KernelModule.load("paged_attention"), local, blockSize, maxRows,
                    maxTokens, maxBlocksPerSeq));
            weights = own(DeviceWeights.upload(config, checkpointWeights, shard));
            buffers = own(new StepBuffers(local, maxTokens, maxRows, logitsWidth));
            // a step copies at most one partly filled block per sequence (copy-on-write); more go in chunks
            blockPairs = own(new StagedInts(2 * maxRows));
            attentionInputs = own(new CopyFence());
        } catch (CudaException e) {
            throw closedAfter(new CudaBackendException("loading rank " + rank
                    + "'s kernels, weights and buffers on cuda:" + context.ordinal(), e));
        } catch (RuntimeException | Error e) {
            closedAfter(e);
            throw e;
        }
    }

    /** Frees what a failed construction allocated; a failure to free is added to {@code failure}, returned. */
    private <T extends Throwable> T closedAfter(T failure) {
        try {
            close();
        } catch (RuntimeException closing) {
            failure.addSuppressed(closing);
        }
        return failure;
    }

    /**
     * {@code config} narrowed to {@code shard}'s heads and MLP features: what the attention kernels, the KV cache and
     * the step buffers of one rank are sized by. The whole model for a rank of one.
     */
    static ModelConfig localConfig(ModelConfig config, Shard shard) {
        return new ModelConfig(config.architecture(), config.vocabSize(), config.hiddenSize(),
                shard.intermediate().size(), config.numHiddenLayers(), shard.queryHeads().size(),
                shard.kvHeads().size(), config.headDim(), config.rmsNormEps(), config.rope(),
                config.maxPositionEmbeddings(), config.tieWordEmbeddings(), config.qkvBias(), config.qkNorm(),
                config.slidingWindow(), config.dtype(), config.bosTokenId(), config.eosTokenIds());
    }

    CUstream stream() {
        return context.stream();
    }

    long weightBytes() {
        return weights.bytes();
    }

    /** The cache of this rank's KV heads that its steps read and write: the backend's, which frees it. */
    void useCache(DeviceKvCache kv) {
        cache = kv;
    }

    /** Copies each block {@code src[i]} to {@code dst[i]} (checked by the caller) in every layer. */
    void copyBlocks(int[] src, int[] dst) {
        int chunk = blockPairs.capacity() / 2;
        for (int from = 0; from < src.length; from += chunk) {
            int count = Math.min(chunk, src.length - from);
            IntBuffer pairs = blockPairs.begin();
            for (int i = from; i < from + count; i++) {
                pairs.put(src[i]).put(dst[i]);
            }
            blockPairs.send(stream(), 2 * count);
            kvKernels.copyBlocks(stream(), cache.base(), blockPairs.at(0), count, local.numHiddenLayers(),
                    cache.numBlocks, Math.toIntExact(cache.blockElems));
        }
    }

    /** Queues the copy of the step's int32 inputs (and the deferred tokens' indices) into the step buffers. */
    void uploadInputs(BatchInputs batch, DeferredTokens deferred) {
        marks.at(rank, Op.UPLOAD, -1);
        buffers.upload(stream(), batch, deferred);
    }

    /** Plans the step's attention and queues its metadata's copy. */
    void prepareAttention(BatchInputs batch, int minBlockTableStride) {
        marks.at(rank, Op.PREPARE, -1);
        attentionInputs.await();
        attention.prepare(stream(), batch, minBlockTableStride);
        attentionInputs.mark(stream());
    }

    /** The embedding of the step's {@code n} tokens into the residual stream (the embedding is whole on every rank). */
    void embed(int n) {
        marks.at(rank, Op.EMBEDDING, -1);
        elementwise.embedding(stream(), buffers.inputIds(), n, weights.embedding, buffers.x.ptr(),
                local.hiddenSize());
    }

    /**
     * Layer {@code l}'s attention up to o_proj, whose output in {@code delta} is this rank's partial sum (the whole
     * sum with one rank). The previous layer's down_proj output joins the residual stream inside the input norm.
     */
    void queueAttention(int l, int n) {
        CUstream s = stream();
        DeviceWeights.Layer w = weights.layers.get(l);
        DeviceKvCache kv = cache;
        StepBuffers b = buffers;
        int h = local.hiddenSize();
        CUdeviceptr x = b.x.ptr();
        CUdeviceptr normed = b.normed.ptr();
        CUdeviceptr qkv = b.wide.ptr();
        CUdeviceptr attnOut = b.narrow.ptr();
        marks.at(rank, Op.INPUT_NORM, l);
        elementwise.addRmsNorm(s, x, l == 0 ? null : b.delta.ptr(), w.inputNorm(), eps, normed, n, h);
        marks.at(rank, Op.QKV, l);
        gemm.run(s, normed, h, w.qkv(), qkv, qkvWidth, n, qkvWidth, h);
        if (w.qkvBias() != null) {
            marks.at(rank, Op.QKV_BIAS, l);
            elementwise.addBias(s, qkv, w.qkvBias(), n, qkvWidth);
        }
        marks.at(rank, Op.ROTARY_CACHE, l);
        elementwise.rotaryCache(s, qkv, qkvWidth, b.positions(), b.slotMapping(), n, weights.invFreq, w.qNorm(),
                w.kNorm(), eps, local.numAttentionHeads(), local.numKeyValueHeads(), local.headDim(), kv.key(l),
                kv.value(l), kv.blockSize);
        marks.at(rank, Op.ATTENTION, l);
        attention.run(s, qkv, qkvWidth, kv.key(l), kv.value(l), attnOut);
        marks.at(rank, Op.O_PROJ, l);
        gemm.run(s, attnOut, local.qSize(), w.o(), b.delta.ptr(), h, n, h, local.qSize());
    }

    /**
     * Layer {@code l}'s MLP after the o_proj all-reduce: o_proj's bias (once, on the reduced sum), the residual add and
     * norm, gate_up with SiLU-and-multiply, and down_proj, whose output in {@code delta} is this rank's partial sum.
     */
    void queueMlp(int l, int n) {
        CUstream s = stream();
        DeviceWeights.Layer w = weights.layers.get(l);
        StepBuffers b = buffers;
        int h = local.hiddenSize();
        int inter = local.intermediateSize();
        CUdeviceptr act = b.narrow.ptr();
        addBias(Op.O_BIAS, l, w.oBias(), n);
        marks.at(rank, Op.POST_NORM, l);
        elementwise.addRmsNorm(s, b.x.ptr(), b.delta.ptr(), w.postAttentionNorm(), eps, b.normed.ptr(), n, h);
        marks.at(rank, Op.GATE_UP, l);
        gemm.runSiluMul(s, b.normed.ptr(), h, w.gateUp(), w.gateUpBias(), b.gateUpScratch(), act, inter, n, inter,
                h);
        marks.at(rank, Op.DOWN, l);
        gemm.run(s, act, inter, w.down(), b.delta.ptr(), h, n, h, inter);
    }

    /** down_proj's bias of layer {@code l}, once, on the reduced sum. */
    void addDownBias(int l, int n) {
        addBias(Op.DOWN_BIAS, l, weights.layers.get(l).downBias(), n);
    }

    private void addBias(Op op, int l, CUdeviceptr bias, int n) {
        if (bias != null) {
            marks.at(rank, op, l);
            elementwise.addBias(stream(), buffers.delta.ptr(), bias, n, local.hiddenSize());
        }
    }

    /**
     * The final norm of the {@code m} logits rows (the last down_proj output joins the residual stream only there) and
     * this rank's vocabulary columns of their logits, written from column 0 of its logits buffer.
     */
    void queueLmHead(int m) {
        CUstream s = stream();
        StepBuffers b = buffers;
        int h = local.hiddenSize();
        marks.at(rank, Op.FINAL_NORM, -1);
        elementwise.rmsNormRows(s, b.x.ptr(), b.delta.ptr(), b.logitsIndices(), m, weights.finalNorm, eps,
                b.lastNormed.ptr(), h);
        marks.at(rank, Op.LM_HEAD, -1);
        gemm.run(s, b.lastNormed.ptr(), h, weights.lmHead, b.logits.ptr(), b.logitsWidth, m, vocab.size(), h);
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    /** Frees the rank's device and pinned memory; the caller has synchronized its stream. */
    @Override
    public void close() {
        context.makeCurrent();
        cache = null;
        Resources.closeAll(owned);
    }
}
