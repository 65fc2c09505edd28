package io.kindling.cuda;

import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.BackendUnavailableException;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.BatchLimits;
import io.kindling.backend.BatchValidator;
import io.kindling.backend.Logits;
import io.kindling.backend.StepProfile;
import io.kindling.model.ModelConfig;
import io.kindling.model.Weights;
import io.kindling.backend.BatchSampler;
import io.kindling.backend.DeferredTokens;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * The model on one NVIDIA GPU: bf16 weights and GEMM inputs, an fp32 residual stream and fp32 accumulation, a bf16
 * paged KV cache. A step is queued on the context's one stream without any synchronization; the first read of its
 * logits (the sampler, or {@link Logits#row}) waits for it.
 *
 * <p>Memory: the weights, the step buffers for {@code maxNumBatchedTokens} tokens and {@code maxNumSeqs} logits
 * rows, and the attention metadata are allocated at construction; then, as vLLM's profile run does, one step of
 * the largest size runs on a scratch cache, and what is in use after it sets the KV budget:
 * {@code total * gpuMemoryUtilization - in use}.
 */
final class CudaBackend implements Backend {

    private static final System.Logger LOG = System.getLogger(CudaBackend.class.getName());
    /**
     * {@code -Dkindling.cuda.enforceEager=true} runs decode steps launch by launch instead of replaying graphs, as
     * vLLM's {@code enforce_eager}: for comparing the two in a profile.
     */
    private static final boolean ENFORCE_EAGER = Boolean.getBoolean("kindling.cuda.enforceEager");

    /** What a step is doing, to name the failed operation in an error. */
    private enum Op {
        UPLOAD("uploading the step's inputs", "upload"), PREPARE("planning attention", "upload"),
        EMBEDDING("embedding", "embedding"), INPUT_NORM("input RMSNorm", "rms norm"),
        QKV("qkv projection", "gemm qkv"), QKV_BIAS("qkv bias", "bias"),
        ROTARY_CACHE("rotary embedding and writing K/V into the cache", "rotary+kv write"),
        ATTENTION("paged attention", "attention"),
        O_PROJ("o_proj", "gemm o"), O_BIAS("o_proj bias", "bias"), POST_NORM("post-attention RMSNorm", "rms norm"),
        GATE_UP("gate_up projection with SiLU and multiply", "gemm gate_up+silu"), DOWN("down_proj", "gemm down"),
        DOWN_BIAS("down_proj bias", "bias"), FINAL_NORM("final RMSNorm", "rms norm"),
        LM_HEAD("LM head", "lm head"), GRAPH("replaying the decode graph", "graph");

        final String description;
        /** The op family the profile adds this op's device time to. */
        final String family;

        Op(String description, String family) {
            this.description = description;
            this.family = family;
        }
    }

    private final CudaContext context;
    private final ModelConfig config;
    private final BackendOptions options;
    private final float eps;
    private final int qkvWidth;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Gemm gemm;
    private final Elementwise elementwise;
    private final KvCacheKernels kvKernels;
    private final PagedAttention attention;
    private final DeviceWeights weights;
    private final StepBuffers buffers;
    private final StagedInts blockPairs;
    /** PagedAttention rewrites its pinned metadata in every prepare: the previous step's copy must have run. */
    private final CopyFence attentionInputs;
    private final GpuSampler sampler;
    private final OpProfiler profiler;
    private final DecodeGraphs graphs;
    private final long activationBytes;
    private final long kvCacheBudget;
    /** What the decode graphs may take, counted into the activations. */
    private long graphBytes;
    private DeviceKvCache cache;
    private BatchValidator validator;
    /** The logits of the last forward pass: one view over the step buffer, refilled by each pass. */
    private final CudaLogits logits;
    /**
     * The last forward pass's {@link StepProfile}, kept as fields so that a step allocates none; the record is built
     * when read. {@code lastHostQueueNanos} -1: no forward pass yet.
     */
    private long lastHostQueueNanos = -1;
    private int lastLaunches;
    private int lastGraphReplays;
    private Map<String, Double> lastGpuMillis = Map.of();
    private Op op;
    private int opLayer;

    /** Takes ownership of {@code context}: closing the backend releases it, as does a failed construction. */
    CudaBackend(CudaContext context, ModelConfig config, Weights checkpointWeights, BackendOptions requested) {
        this.context = context;
        this.config = config;
        // every use below reads the resolved limits: the requested ones may be AUTO (0)
        this.options = requested.withLimitsOrDefaults(BatchLimits.gpu(context.totalMemory()));
        this.eps = (float) config.rmsNormEps();
        this.qkvWidth = config.qSize() + 2 * config.kvSize();
        owned.add(context);
        try {
            checkShapes(config);
            // every kernel first: a build without nvcc fails here, before gigabytes of weights move
            gemm = own(new Gemm(KernelModule.load("gemm"), Gemm.WORKSPACE_BYTES));
            elementwise = Elementwise.load();
            kvKernels = new KvCacheKernels(KernelModule.load("kv_cache"));
            KernelModule sampling = KernelModule.load("sampling");
            KernelModule tokenBitmask = KernelModule.load("token_bitmask");
            attention = own(new PagedAttention(KernelModule.load("paged_attention"), config, options.blockSize(),
                    options.maxNumSeqs(), options.maxNumBatchedTokens(), maxBlocksPerSeq()));
            weights = own(DeviceWeights.upload(config, checkpointWeights));
            buffers = own(new StepBuffers(config, options.maxNumBatchedTokens(), options.maxNumSeqs()));
            logits = new CudaLogits(context, buffers.logits.ptr(), config.vocabSize());
            // a step copies at most one partly filled block per sequence (copy-on-write); more go in chunks
            blockPairs = own(new StagedInts(2 * options.maxNumSeqs()));
            attentionInputs = own(new CopyFence());
            profiler = own(new OpProfiler(KernelModule.load("profile")));
            // one draw per running sequence; a step with more (n > 1 forks) samples in several launches
            sampler = own(new GpuSampler(sampling, tokenBitmask, context.stream(), profiler, options.maxNumSeqs(),
                    config.vocabSize()));
            graphs = own(new DecodeGraphs(Math.min(options.maxNumSeqs(), options.maxNumBatchedTokens()),
                    maxBlocksPerSeq()));
            long inUse = profileRun();
            activationBytes = inUse - weights.bytes();
            kvCacheBudget = (long) (context.totalMemory() * options.gpuMemoryUtilization()) - inUse;
            LOG.log(System.Logger.Level.INFO, () -> String.format("%s: weights %.2f GiB, activations, buffers, "
                    + "context and decode graphs %.2f GiB (graphs %.3f GiB), KV budget %.2f GiB at "
                    + "gpu_memory_utilization %.2f", device(), gib(weights.bytes()), gib(activationBytes),
                    gib(graphBytes), gib(kvCacheBudget), options.gpuMemoryUtilization()));
        } catch (RuntimeException | Error e) {
            try {
                Resources.closeAll(owned);
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private int maxBlocksPerSeq() {
        return (config.maxPositionEmbeddings() + options.blockSize() - 1) / options.blockSize();
    }

    private static void checkShapes(ModelConfig config) {
        if (config.headDim() % 2 != 0 || config.headDim() > 256) {
            throw new BackendUnavailableException("the CUDA kernels need an even head_dim of at most 256, this model "
                    + "has " + config.headDim());
        }
        if (config.numAttentionHeads() % config.numKeyValueHeads() != 0) {
            throw new IllegalArgumentException("num_attention_heads " + config.numAttentionHeads()
                    + " is not a multiple of num_key_value_heads " + config.numKeyValueHeads());
        }
        if (config.hiddenSize() % 8 != 0 || config.qSize() % 8 != 0 || config.intermediateSize() % 8 != 0) {
            throw new BackendUnavailableException("the CUDA GEMM needs hidden_size, num_attention_heads * head_dim "
                    + "and intermediate_size to be multiples of 8, this model has " + config.hiddenSize() + ", "
                    + config.qSize() + " and " + config.intermediateSize());
        }
    }

    /**
     * Runs the largest step on a scratch cache of just the blocks it writes, and returns the bytes in use after it
     * (other processes' share of the card included), the scratch cache excluded, plus what the decode graphs will
     * take: one graph of the largest bucket is captured on the scratch cache, and its memory counted once per graph
     * that may be captured.
     */
    private long profileRun() {
        ProfileBatch profile = ProfileBatch.of(options.maxNumBatchedTokens(), options.maxNumSeqs(),
                options.blockSize());
        try (DeviceKvCache scratch = DeviceKvCache.allocate(config, profile.numBlocks(), options.blockSize())) {
            useCache(scratch);
            forward(profile.inputs());
            synchronize("the profile step");
            long inUse = context.totalMemory() - context.freeMemory() - scratch.bytes();
            long perGraph;
            try (DecodeGraphs probe = new DecodeGraphs(graphs.maxBucket(), maxBlocksPerSeq())) {
                BatchInputs one = new BatchInputs(new int[1], new int[1], new int[] {-1}, new int[] {0, 1},
                        new int[] {1}, new int[][] {{0}}, new int[1]);
                queueDecodeGraph(probe, one, DeferredTokens.NONE, scratch);
                synchronize("capturing the decode graph");
                perGraph = Math.max(0, context.totalMemory() - context.freeMemory() - scratch.bytes() - inUse);
            }
            graphBytes = perGraph * graphs.maxGraphs();
            return inUse + graphBytes;
        } finally {
            logits.expire();
            cache = null;
            validator = null;
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    @Override
    public String device() {
        return "cuda:" + context.ordinal() + " (" + context.deviceName() + ", bf16)";
    }

    @Override
    public BatchLimits batchLimits() {
        return options.limits();
    }

    @Override
    public long kvCacheBytesPerBlock(int blockSize) {
        return DeviceKvCache.bytesPerBlock(config, blockSize);
    }

    /**
     * @throws BackendUnavailableException when the memory share leaves less than one KV block after the weights
     *     and the activations
     */
    @Override
    public OptionalLong kvCacheBudgetBytes() {
        if (kvCacheBudget < kvCacheBytesPerBlock(options.blockSize())) {
            throw new BackendUnavailableException(String.format("%s has %.2f GiB; gpu_memory_utilization %.2f "
                    + "leaves no room for a KV cache after the weights (%.2f GiB) and activations (%.2f GiB): "
                    + "raise it, or lower max_num_batched_tokens or max_num_seqs", device(),
                    gib(context.totalMemory()), options.gpuMemoryUtilization(), gib(weights.bytes()),
                    gib(activationBytes)));
        }
        return OptionalLong.of(kvCacheBudget);
    }

    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        if (cache != null) {
            throw new IllegalStateException("KV cache already allocated (" + cache.numBlocks + " blocks of "
                    + cache.blockSize + ")");
        }
        if (blockSize != options.blockSize()) {
            throw new IllegalArgumentException("block size " + blockSize + ", but attention was planned for "
                    + options.blockSize());
        }
        context.makeCurrent();
        try {
            useCache(own(DeviceKvCache.allocate(config, numBlocks, blockSize)));
        } catch (CudaException e) {
            throw new CudaBackendException(String.format("allocating a KV cache of %d blocks (%.2f GiB, %.2f GiB "
                    + "free)", numBlocks, gib(numBlocks * kvCacheBytesPerBlock(blockSize)),
                    gib(context.freeMemory())), e);
        }
    }

    private void useCache(DeviceKvCache kv) {
        cache = kv;
        validator = new BatchValidator(config.vocabSize(), kv.numBlocks, kv.blockSize);
    }

    @Override
    public void copyBlocks(int[] src, int[] dst) {
        DeviceKvCache kv = requireCache("copyBlocks");
        if (src.length != dst.length) {
            throw new IllegalArgumentException(src.length + " source blocks but " + dst.length + " destinations");
        }
        // the kernel runs the pairs in parallel: a destination written twice, or read as a source, would race
        Set<Integer> written = new HashSet<>();
        for (int i = 0; i < src.length; i++) {
            if (src[i] < 0 || src[i] >= kv.numBlocks || dst[i] < 0 || dst[i] >= kv.numBlocks) {
                throw new IllegalArgumentException("block copy " + src[i] + " -> " + dst[i] + " outside the cache's "
                        + kv.numBlocks + " blocks");
            }
            if (!written.add(dst[i])) {
                throw new IllegalArgumentException("block " + dst[i] + " is the destination of two copies");
            }
        }
        for (int block : src) {
            if (written.contains(block)) {
                throw new IllegalArgumentException("block " + block + " is both copied from and into in one step");
            }
        }
        context.makeCurrent();
        CUstream stream = context.stream();
        int chunk = blockPairs.capacity() / 2;
        try {
            for (int from = 0; from < src.length; from += chunk) {
                int count = Math.min(chunk, src.length - from);
                IntBuffer pairs = blockPairs.begin();
                for (int i = from; i < from + count; i++) {
                    pairs.put(src[i]).put(dst[i]);
                }
                blockPairs.send(stream, 2 * count);
                kvKernels.copyBlocks(stream, kv.base(), blockPairs.at(0), count, config.numHiddenLayers(),
                        kv.numBlocks, Math.toIntExact(kv.blockElems));
            }
        } catch (CudaException e) {
            throw new CudaBackendException("copying " + src.length + " KV blocks", e);
        }
    }

    @Override
    public boolean takesDeferredTokens() {
        return true;
    }

    @Override
    public Logits forward(BatchInputs batch) {
        return forward(batch, DeferredTokens.NONE);
    }

    /**
     * Queues the step; a deferred token's id is written on the device from the sampler's last launch (or on the
     * host, where that launch waited for its tokens) between the input upload and the forward pass.
     */
    @Override
    public Logits forward(BatchInputs batch, DeferredTokens deferred) {
        DeviceKvCache kv = requireCache("forward");
        validator.validate(batch);
        if (batch.numTokens() == 0) {
            throw new IllegalArgumentException("empty step: no tokens scheduled");
        }
        context.makeCurrent();
        logits.expire();
        long start = System.nanoTime();
        int graphReplays = 0;
        int launches;
        try {
            DeferredTokens onDevice = sampler.resolveOnHost(deferred, batch.inputIds());
            boolean profiled = profiler.begin(context.stream());
            launches = Launch.launchesOnThisThread();
            if (!profiled && !ENFORCE_EAGER && DecodeGraphs.isDecodeOnly(batch)) {
                queueDecodeGraph(graphs, batch, onDevice, kv);
                graphReplays = 1;
            } else {
                upload(batch, onDevice, 1);
                queueModel(batch.numTokens(), batch.numLogits(), kv);
                profiler.mark(context.stream(), "idle before sampling");
            }
            launches = Launch.launchesOnThisThread() - launches;
        } catch (CudaException e) {
            throw new CudaBackendException(op.description + (opLayer >= 0 ? " of layer " + opLayer : ""), e);
        }
        lastHostQueueNanos = System.nanoTime() - start;
        lastLaunches = launches;
        lastGraphReplays = graphReplays;
        lastGpuMillis = Map.of();
        logits.refill(batch.numLogits());
        return logits;
    }

    /** Pads a decode-only step to its graph's bucket, uploads its inputs and replays (or first captures) the graph. */
    private void queueDecodeGraph(DecodeGraphs decodeGraphs, BatchInputs batch, DeferredTokens deferred,
            DeviceKvCache kv) {
        int bucket = decodeGraphs.bucket(batch.numSeqs());
        BatchInputs padded = decodeGraphs.pad(batch, bucket);
        int stride = decodeGraphs.strideBucket(maxBlocks(batch));
        upload(padded, deferred, stride);
        at(Op.GRAPH, -1);
        decodeGraphs.replay(context.stream(), bucket, stride, attention.plan().launchShape(),
                () -> queueModel(bucket, bucket, kv));
    }

    private int maxBlocks(BatchInputs batch) {
        int blocks = 1;
        for (int s = 0; s < batch.numSeqs(); s++) {
            blocks = Math.max(blocks, (batch.seqLens()[s] + options.blockSize() - 1) / options.blockSize());
        }
        return blocks;
    }

    /**
     * Queues the copies of the step's inputs and attention metadata into their fixed device buffers, and the
     * deferred tokens' ids from the sampler's results into the input ids.
     */
    private void upload(BatchInputs batch, DeferredTokens deferred, int minBlockTableStride) {
        CUstream s = context.stream();
        at(Op.UPLOAD, -1);
        buffers.upload(s, batch, deferred);
        sampler.takeSampled(s, deferred.size(), buffers.deferredDrawIndices(), buffers.deferredTokenIndices(),
                buffers.inputIds());
        at(Op.PREPARE, -1);
        attentionInputs.await();
        attention.prepare(s, batch, minBlockTableStride);
        attentionInputs.mark(s);
    }

    /**
     * Queues the forward pass of {@code n} tokens, {@code m} of them logits rows, over the uploaded inputs; nothing
     * here waits for the GPU, and every launch reads only fixed device buffers, so a graph can capture it.
     */
    private void queueModel(int n, int m, DeviceKvCache kv) {
        CUstream s = context.stream();
        int h = config.hiddenSize();
        int q = config.qSize();
        int inter = config.intermediateSize();
        StepBuffers b = buffers;
        CUdeviceptr x = b.x.ptr();
        CUdeviceptr delta = b.delta.ptr();
        CUdeviceptr normed = b.normed.ptr();
        CUdeviceptr qkv = b.wide.ptr();
        CUdeviceptr attnOut = b.narrow.ptr();
        CUdeviceptr act = b.narrow.ptr();

        at(Op.EMBEDDING, -1);
        elementwise.embedding(s, b.inputIds(), n, weights.embedding, x, h);
        for (int l = 0; l < weights.layers.size(); l++) {
            DeviceWeights.Layer w = weights.layers.get(l);
            // the previous layer's down_proj output joins the residual stream inside the norm
            at(Op.INPUT_NORM, l);
            elementwise.addRmsNorm(s, x, l == 0 ? null : delta, w.inputNorm(), eps, normed, n, h);
            at(Op.QKV, l);
            gemm.run(s, normed, h, w.qkv(), qkv, qkvWidth, n, qkvWidth, h);
            if (w.qkvBias() != null) {
                at(Op.QKV_BIAS, l);
                elementwise.addBias(s, qkv, w.qkvBias(), n, qkvWidth);
            }
            at(Op.ROTARY_CACHE, l);
            elementwise.rotaryCache(s, qkv, qkvWidth, b.positions(), b.slotMapping(), n, weights.invFreq, w.qNorm(),
                    w.kNorm(), eps, config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(),
                    kv.key(l), kv.value(l), kv.blockSize);
            at(Op.ATTENTION, l);
            attention.run(s, qkv, qkvWidth, kv.key(l), kv.value(l), attnOut);
            at(Op.O_PROJ, l);
            gemm.run(s, attnOut, q, w.o(), delta, h, n, h, q);
            if (w.oBias() != null) {
                at(Op.O_BIAS, l);
                elementwise.addBias(s, delta, w.oBias(), n, h);
            }
            at(Op.POST_NORM, l);
            elementwise.addRmsNorm(s, x, delta, w.postAttentionNorm(), eps, normed, n, h);
            at(Op.GATE_UP, l);
            gemm.runSiluMul(s, normed, h, w.gateUp(), w.gateUpBias(), b.gateUpScratch(), act, inter, n, inter, h);
            at(Op.DOWN, l);
            gemm.run(s, act, inter, w.down(), delta, h, n, h, inter);
            if (w.downBias() != null) {
                at(Op.DOWN_BIAS, l);
                elementwise.addBias(s, delta, w.downBias(), n, h);
            }
        }
        if (m == 0) { // every sequence is mid-prompt (chunked prefill): no logits this step
            return;
        }
        at(Op.FINAL_NORM, -1);
        // the last down_proj output joins the residual stream only in the rows that need logits
        elementwise.rmsNormRows(s, x, delta, b.logitsIndices(), m, weights.finalNorm, eps, b.lastNormed.ptr(), h);
        at(Op.LM_HEAD, -1);
        gemm.run(s, b.lastNormed.ptr(), h, weights.lmHead, b.logits.ptr(), config.vocabSize(), m,
                config.vocabSize(), h);
    }

    private void at(Op next, int layer) {
        op = next;
        opLayer = layer;
        profiler.mark(context.stream(), next.family);
    }

    @Override
    public boolean profileNextStep() {
        profiler.arm();
        return true;
    }

    /**
     * The last step's figures; a profiled step's device times once its sampling has run (waits for it). Reading them
     * ends the request for a profile: one that no forward pass took (with asynchronous scheduling, a step may only
     * finish the previous one's tokens) must not land on a later step that nobody reads as profiled.
     */
    @Override
    public Optional<StepProfile> lastStepProfile() {
        profiler.disarm();
        if (lastHostQueueNanos < 0) {
            return Optional.empty();
        }
        if (profiler.hasRecording()) {
            context.makeCurrent();
            try {
                lastGpuMillis = profiler.finish();
            } catch (CudaException e) {
                throw new CudaBackendException("reading the step profile's events", e);
            }
        }
        return Optional.of(new StepProfile(lastHostQueueNanos, lastLaunches, lastGraphReplays, lastGpuMillis));
    }

    @Override
    public BatchSampler sampler() {
        return sampler;
    }

    private DeviceKvCache requireCache(String what) {
        if (cache == null) {
            throw new IllegalStateException("allocateKvCache must run before " + what);
        }
        return cache;
    }

    private void synchronize(String what) {
        try {
            context.synchronize();
        } catch (CudaException e) {
            throw new CudaBackendException(what, e);
        }
    }

    private static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }

    /** Waits for queued work, then frees every device and pinned allocation and releases the context. */
    @Override
    public void close() {
        if (owned.isEmpty()) {
            return;
        }
        context.makeCurrent();
        try {
            context.synchronize();
        } finally {
            cache = null;
            Resources.closeAll(owned);
        }
    }
}
