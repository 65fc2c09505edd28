package io.kindling.cuda;

import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.BackendUnavailableException;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.BatchLimits;
import io.kindling.backend.BatchValidator;
import io.kindling.backend.Logits;
import io.kindling.backend.StepProfile;
import io.kindling.backend.TensorParallelPlan;
import io.kindling.core.EngineConfigException;
import io.kindling.cuda.StepMarks.Op;
import io.kindling.model.ModelConfig;
import io.kindling.model.Weights;
import io.kindling.backend.BatchSampler;
import io.kindling.backend.DeferredTokens;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import jcuda.CudaException;
import jcuda.driver.CUstream;

/**
 * The model on NVIDIA GPUs: bf16 weights and GEMM inputs, an fp32 residual stream and fp32 accumulation, a bf16
 * paged KV cache. A step is queued on the GPUs' streams without any synchronization; the first read of its logits
 * (the sampler, or {@link Logits#row}) waits for it.
 *
 * <p>Tensor parallelism ({@code tensor_parallel_size} N, vLLM's Megatron-style split inside one engine): one
 * {@link CudaRank} a GPU, each holding its {@link TensorParallelPlan} shard. The host queues each layer rank by rank
 * (launches are asynchronous, so the GPUs run side by side); after o_proj and down_proj the ranks' partial sums are
 * all-reduced by peer copies and a sum in rank order ({@link PeerExchange}), so every rank holds the same bits and a
 * row's result does not depend on the batch; the LM head's vocabulary slices are gathered into rank 0's logits, where
 * the sampler runs. With N = 1 there is one rank and the launches are the single-GPU model's. Decode steps replay
 * CUDA graphs at N = 1 only: N > 1 runs every step eagerly, since a capture would have to span the ranks' contexts
 * and their peer copies, which has not been tried on the GPU machine.
 *
 * <p>Memory: the weights, the step buffers for {@code maxNumBatchedTokens} tokens and {@code maxNumSeqs} logits
 * rows, and the attention metadata are allocated at construction; then, as vLLM's profile run does, one step of
 * the largest size runs on a scratch cache, and what is in use after it sets the KV budget:
 * {@code total * gpuMemoryUtilization - in use}, per GPU, shared among the ranks on it, the smallest share bounding
 * every rank's cache (all hold the same block ids).
 */
final class CudaBackend implements Backend {

    private static final System.Logger LOG = System.getLogger(CudaBackend.class.getName());
    /**
     * {@code -Dkindling.cuda.enforceEager=true} runs decode steps launch by launch instead of replaying graphs, as
     * vLLM's {@code enforce_eager}: for comparing the two in a profile.
     */
    private static final boolean ENFORCE_EAGER = Boolean.getBoolean("kindling.cuda.enforceEager");

    private final CudaDevices devices;
    private final ModelConfig config;
    private final BackendOptions options;
    private final List<AutoCloseable> owned = new ArrayList<>();
    /** Rank 0 first: it holds the whole logits and runs the sampler. */
    private final CudaRank[] ranks;
    /** Null with one rank. */
    private final PeerExchange exchange;
    private final GpuSampler sampler;
    private final OpProfiler profiler;
    private final StepMarks marks;
    private final DecodeGraphs graphs;
    /** The weights on rank 0's GPU: those of every rank there (ranks may share a card). */
    private final long weightBytes;
    /** What else is in use on rank 0's GPU after the profile step: activations, buffers, context, decode graphs. */
    private final long activationBytes;
    private final long kvCacheBudget;
    /** What the decode graphs may take, counted into the activations. */
    private long graphBytes;
    /** Blocks of the KV cache in use (every rank's holds the same ids); 0 before one is. */
    private int numBlocks;
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

    /**
     * Takes ownership of {@code contexts}, one a rank of {@code devices} (closing the backend releases them, as does a
     * failed construction), which {@link CudaContext#joinAsPeers} has joined where there are several.
     *
     * @throws EngineConfigException on {@code tensor_parallel_size} when a rank's share of the model does not fit the
     *     kernels
     */
    CudaBackend(CudaDevices devices, List<CudaContext> contexts, ModelConfig config, Weights checkpointWeights,
                BackendOptions requested) {
        this.devices = devices;
        this.config = config;
        CudaContext first = contexts.get(0);
        owned.addAll(contexts);
        try {
            first.makeCurrent(); // the memory queries below ask the current context
            // every use below reads the resolved limits: the requested ones may be AUTO (0)
            this.options = requested.withLimitsOrDefaults(BatchLimits.gpu(first.totalMemory()));
            TensorParallelPlan plan = TensorParallelPlan.of(config, devices.size());
            checkShapes(config, plan);
            profiler = own(new OpProfiler(loadInto(first, "profile")));
            // every kernel before any weights (the ranks load theirs first too): a build without them fails early
            KernelModule sampling = loadInto(first, "sampling");
            KernelModule tokenBitmask = KernelModule.load("token_bitmask");
            marks = new StepMarks(profiler, first.stream(), devices);
            ranks = new CudaRank[devices.size()];
            for (TensorParallelPlan.Shard shard : plan.shards()) {
                int r = shard.rank();
                ranks[r] = own(new CudaRank(contexts.get(r), config, shard, checkpointWeights,
                        options.maxNumBatchedTokens(), options.maxNumSeqs(), options.blockSize(), maxBlocksPerSeq(),
                        r == 0 ? config.vocabSize() : shard.vocab().size(), marks));
            }
            exchange = ranks.length == 1 ? null
                    : own(new PeerExchange(ranks, options.maxNumBatchedTokens(), options.maxNumSeqs(), marks));
            first.makeCurrent();
            logits = new CudaLogits(first, ranks[0].buffers.logits.ptr(), config.vocabSize());
            // one draw per running sequence; a step with more (n > 1 forks) samples in several launches
            sampler = own(new GpuSampler(sampling, tokenBitmask, first.stream(), profiler, options.maxNumSeqs(),
                    config.vocabSize()));
            graphs = own(new DecodeGraphs(Math.min(options.maxNumSeqs(), options.maxNumBatchedTokens()),
                    maxBlocksPerSeq()));
            long[] inUse = profileRun();
            long[] total = new long[ranks.length];
            long[] weights = new long[ranks.length];
            for (CudaRank rank : ranks) {
                rank.context.makeCurrent();
                total[rank.rank] = rank.context.totalMemory();
                weights[rank.rank] = rank.weightBytes();
            }
            weightBytes = devices.onGpuOf(0, weights);
            activationBytes = inUse[0] - weightBytes;
            first.makeCurrent();
            kvCacheBudget = kvBudget(devices, total, inUse, options.gpuMemoryUtilization());
            LOG.log(System.Logger.Level.INFO, () -> String.format("%s: weights %.2f GiB, activations, buffers, "
                    + "context and decode graphs %.2f GiB (graphs %.3f GiB), KV budget %.2f GiB at "
                    + "gpu_memory_utilization %.2f%s", device(), gib(weightBytes), gib(activationBytes),
                    gib(graphBytes), gib(kvCacheBudget), options.gpuMemoryUtilization(),
                    ranks.length == 1 ? "" : " (rank 0's GPU; the budget over all ranks)"));
        } catch (RuntimeException | Error e) {
            Resources.closeAllAfter(e, owned);
            throw e;
        }
    }

    private int maxBlocksPerSeq() {
        return (config.maxPositionEmbeddings() + options.blockSize() - 1) / options.blockSize();
    }

    private static KernelModule loadInto(CudaContext context, String name) {
        context.makeCurrent();
        return KernelModule.load(name);
    }

    /**
     * @throws EngineConfigException on {@code tensor_parallel_size} when a rank's share does not fit the GEMM, or the
     *     ranks are more than the all-reduce sums
     */
    static void checkShapes(ModelConfig config, TensorParallelPlan plan) {
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
        int n = plan.tensorParallelSize();
        if (n > PeerAllReduce.MAX_RANKS) {
            throw new EngineConfigException("tensor_parallel_size", n + " ranks; the CUDA all-reduce sums at most "
                    + PeerAllReduce.MAX_RANKS + " (one GPU a rank, as on one host)");
        }
        ModelConfig rank = CudaRank.localConfig(config, plan.shards().get(0));
        if (rank.qSize() % 8 != 0 || rank.intermediateSize() % 8 != 0) {
            // a setting the user chose, not a missing GPU: device auto must not fall back to the CPU over it
            throw new EngineConfigException("tensor_parallel_size", n + " leaves each rank "
                    + rank.numAttentionHeads() + " heads * head_dim " + config.headDim() + " = " + rank.qSize()
                    + " query features and intermediate_size " + config.intermediateSize() + " / " + n + " = "
                    + rank.intermediateSize() + " MLP features; the CUDA GEMM needs both to be multiples of 8");
        }
        TensorParallelPlan.Shard last = plan.shards().get(n - 1);
        if (last.vocab().size() == 0) { // an LM head of no rows: the GEMM takes at least one column
            throw new EngineConfigException("tensor_parallel_size", n + " leaves rank " + last.rank()
                    + " no vocabulary: slices of " + plan.shards().get(0).vocab().size() + " tokens cover the "
                    + config.vocabSize() + " before it");
        }
    }

    /**
     * Runs the largest step on a scratch cache of just the blocks it writes, and returns the bytes in use after it
     * (other processes' share of the card included), the scratch cache excluded, plus what the decode graphs will
     * take: one graph of the largest bucket is captured on the scratch cache, and its memory counted once per graph
     * that may be captured. Under tensor parallelism, the bytes in use on each rank's GPU (ranks on one GPU see the
     * same), and no graphs.
     */
    private long[] profileRun() {
        ProfileBatch profile = ProfileBatch.of(options.maxNumBatchedTokens(), options.maxNumSeqs(),
                options.blockSize());
        List<DeviceKvCache> scratch = new ArrayList<>();
        try {
            for (CudaRank rank : ranks) {
                rank.context.makeCurrent();
                DeviceKvCache kv = DeviceKvCache.allocate(rank.local, profile.numBlocks(), options.blockSize());
                scratch.add(kv);
                rank.useCache(kv);
            }
            useCache(profile.numBlocks(), options.blockSize());
            forward(profile.inputs());
            synchronize("the profile step");
            long[] inUse = new long[ranks.length];
            long[] scratchBytes = scratch.stream().mapToLong(DeviceKvCache::bytes).toArray();
            for (CudaRank rank : ranks) {
                inUse[rank.rank] = inUseBy(rank, scratchBytes);
            }
            if (ranks.length > 1) { // no decode graphs
                return inUse;
            }
            CudaContext context = ranks[0].context;
            long perGraph;
            try (DecodeGraphs probe = new DecodeGraphs(graphs.maxBucket(), maxBlocksPerSeq())) {
                BatchInputs one = new BatchInputs(new int[1], new int[1], new int[] {-1}, new int[] {0, 1},
                        new int[] {1}, new int[][] {{0}}, new int[1]);
                queueDecodeGraph(probe, one, DeferredTokens.NONE);
                synchronize("capturing the decode graph");
                perGraph = Math.max(0, context.totalMemory() - context.freeMemory() - scratch.get(0).bytes()
                        - inUse[0]);
            }
            graphBytes = perGraph * graphs.maxGraphs();
            inUse[0] += graphBytes;
            return inUse;
        } finally {
            logits.expire();
            for (int r = 0; r < scratch.size(); r++) {
                ranks[r].context.makeCurrent();
                ranks[r].useCache(null);
                scratch.get(r).close();
            }
            ranks[0].context.makeCurrent();
            numBlocks = 0;
            validator = null;
        }
    }

    /**
     * Bytes in use on {@code rank}'s GPU (other processes' share included), the scratch caches of the ranks on it
     * excluded: shared by those ranks.
     */
    private long inUseBy(CudaRank rank, long[] scratchBytes) {
        rank.context.makeCurrent();
        return rank.context.totalMemory() - rank.context.freeMemory() - devices.onGpuOf(rank.rank, scratchBytes);
    }

    /**
     * What the KV cache may take over all ranks: on each GPU {@code total * gpuMemoryUtilization - in use}, shared by
     * the ranks on it; every rank's cache holds the same blocks, so the smallest share times the ranks.
     *
     * @param total bytes of each rank's GPU
     * @param inUse bytes in use on each rank's GPU after the profile step (the same for ranks sharing one)
     */
    static long kvBudget(CudaDevices devices, long[] total, long[] inUse, double gpuMemoryUtilization) {
        long smallest = Long.MAX_VALUE;
        for (int r = 0; r < devices.size(); r++) {
            long share = ((long) (total[r] * gpuMemoryUtilization) - inUse[r]) / devices.ranksOn(devices.ordinal(r));
            smallest = Math.min(smallest, share);
        }
        return smallest * devices.size();
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    /** {@code cuda:0 (NVIDIA H100 80GB HBM3, bf16)}; {@code cuda:0,1 (..., bf16, tensor_parallel_size 2)}. */
    @Override
    public String device() {
        return devices + " (" + ranks[0].context.deviceName() + ", bf16"
                + (ranks.length == 1 ? "" : ", tensor_parallel_size " + ranks.length) + ")";
    }

    @Override
    public BatchLimits batchLimits() {
        return options.limits();
    }

    /** The ranks' KV heads together: as much as the unsplit model's. */
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
                    gib(ranks[0].context.totalMemory()), options.gpuMemoryUtilization(), gib(weightBytes),
                    gib(activationBytes)));
        }
        return OptionalLong.of(kvCacheBudget);
    }

    /** Each rank's cache holds its KV heads of the same block ids: one block table serves them all. */
    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        if (this.numBlocks != 0) {
            throw new IllegalStateException("KV cache already allocated (" + this.numBlocks + " blocks of "
                    + options.blockSize() + ")");
        }
        if (blockSize != options.blockSize()) {
            throw new IllegalArgumentException("block size " + blockSize + ", but attention was planned for "
                    + options.blockSize());
        }
        ContextResources caches = new ContextResources();
        DeviceKvCache[] allocated = new DeviceKvCache[ranks.length];
        try {
            for (CudaRank rank : ranks) {
                allocated[rank.rank] = caches.own(rank.context, allocateCache(rank, numBlocks, blockSize));
            }
        } catch (RuntimeException | Error e) {
            // a rank's cache is no use without the others': free those allocated, as if none had been
            caches.closeAfter(e);
            throw e;
        }
        own(caches);
        for (CudaRank rank : ranks) {
            rank.useCache(allocated[rank.rank]);
        }
        ranks[0].context.makeCurrent();
        useCache(numBlocks, blockSize);
    }

    /** {@code rank}'s cache of its KV heads, in its context, which this makes current. */
    private DeviceKvCache allocateCache(CudaRank rank, int numBlocks, int blockSize) {
        rank.context.makeCurrent();
        try {
            return DeviceKvCache.allocate(rank.local, numBlocks, blockSize);
        } catch (CudaException e) {
            throw new CudaBackendException(String.format("allocating a KV cache of %d blocks (%.2f GiB, %s free) on "
                    + "%s", numBlocks, gib(numBlocks * kvCacheBytesPerBlock(blockSize) / ranks.length),
                    freeMemory(rank.context, e), devices.name(rank.rank)), e);
        }
    }

    /**
     * The context's free memory for an error message, or "unknown" where asking fails too (a sticky error): that
     * failure goes with {@code first}, which stays the one reported.
     */
    private static String freeMemory(CudaContext context, CudaException first) {
        try {
            return String.format("%.2f GiB", gib(context.freeMemory()));
        } catch (CudaException e) {
            first.addSuppressed(e);
            return "unknown";
        }
    }

    private void useCache(int numBlocks, int blockSize) {
        this.numBlocks = numBlocks;
        validator = new BatchValidator(config.vocabSize(), numBlocks, blockSize);
    }

    @Override
    public void copyBlocks(int[] src, int[] dst) {
        requireCache("copyBlocks");
        if (src.length != dst.length) {
            throw new IllegalArgumentException(src.length + " source blocks but " + dst.length + " destinations");
        }
        // the kernel runs the pairs in parallel: a destination written twice, or read as a source, would race
        Set<Integer> written = new HashSet<>();
        for (int i = 0; i < src.length; i++) {
            if (src[i] < 0 || src[i] >= numBlocks || dst[i] < 0 || dst[i] >= numBlocks) {
                throw new IllegalArgumentException("block copy " + src[i] + " -> " + dst[i] + " outside the cache's "
                        + numBlocks + " blocks");
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
        try {
            for (CudaRank rank : ranks) {
                rank.context.makeCurrent();
                rank.copyBlocks(src, dst);
            }
        } catch (CudaException e) {
            throw new CudaBackendException("copying " + src.length + " KV blocks", e);
        } finally {
            onFirst();
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
        requireCache("forward");
        validator.validate(batch);
        if (batch.numTokens() == 0) {
            throw new IllegalArgumentException("empty step: no tokens scheduled");
        }
        CUstream stream = ranks[0].context.stream();
        ranks[0].context.makeCurrent();
        logits.expire();
        long start = System.nanoTime();
        int graphReplays = 0;
        int launches;
        try {
            DeferredTokens onDevice = sampler.resolveOnHost(deferred, batch.inputIds());
            boolean profiled = profiler.begin(stream);
            launches = Launch.launchesOnThisThread();
            // graphs at N = 1 only: see the class comment
            if (!profiled && !ENFORCE_EAGER && ranks.length == 1 && DecodeGraphs.isDecodeOnly(batch)) {
                queueDecodeGraph(graphs, batch, onDevice);
                graphReplays = 1;
            } else {
                upload(batch, onDevice, 1);
                queueModel(batch.numTokens(), batch.numLogits());
                onFirst();
                profiler.mark(stream, "idle before sampling");
            }
            launches = Launch.launchesOnThisThread() - launches;
        } catch (CudaException e) {
            throw new CudaBackendException(marks.describe(), e);
        } finally {
            onFirst();
        }
        lastHostQueueNanos = System.nanoTime() - start;
        lastLaunches = launches;
        lastGraphReplays = graphReplays;
        lastGpuMillis = Map.of();
        logits.refill(batch.numLogits());
        return logits;
    }

    /** Pads a decode-only step to its graph's bucket, uploads its inputs and replays (or first captures) the graph. */
    private void queueDecodeGraph(DecodeGraphs decodeGraphs, BatchInputs batch, DeferredTokens deferred) {
        int bucket = decodeGraphs.bucket(batch.numSeqs());
        BatchInputs padded = decodeGraphs.pad(batch, bucket);
        int stride = decodeGraphs.strideBucket(maxBlocks(batch));
        upload(padded, deferred, stride);
        marks.at(0, Op.GRAPH, -1);
        decodeGraphs.replay(ranks[0].context.stream(), bucket, stride, ranks[0].attention.plan().launchShape(),
                () -> queueModel(bucket, bucket));
    }

    private int maxBlocks(BatchInputs batch) {
        int blocks = 1;
        for (int s = 0; s < batch.numSeqs(); s++) {
            blocks = Math.max(blocks, (batch.seqLens()[s] + options.blockSize() - 1) / options.blockSize());
        }
        return blocks;
    }

    /**
     * Queues the copies of the step's inputs and attention metadata into every rank's fixed device buffers, and the
     * deferred tokens' ids from the sampler's results into rank 0's input ids, and from there into the others'.
     */
    private void upload(BatchInputs batch, DeferredTokens deferred, int minBlockTableStride) {
        for (int r = 0; r < ranks.length; r++) {
            CudaRank rank = on(r);
            rank.uploadInputs(batch, deferred);
            if (r == 0) {
                StepBuffers b = rank.buffers;
                sampler.takeSampled(rank.stream(), deferred.size(), b.deferredDrawIndices(),
                        b.deferredTokenIndices(), b.inputIds());
            }
            rank.prepareAttention(batch, minBlockTableStride);
        }
        if (exchange != null && deferred.size() > 0) {
            on(0);
            marks.at(0, Op.BROADCAST_INPUT_IDS, -1);
            exchange.broadcastInputIds(batch.numTokens());
        }
    }

    /**
     * Queues the forward pass of {@code n} tokens, {@code m} of them logits rows, over the uploaded inputs, rank by
     * rank between the all-reduces; nothing here waits for the GPUs, and every launch reads only fixed device
     * buffers, so a graph can capture it (at N = 1).
     */
    private void queueModel(int n, int m) {
        for (int r = 0; r < ranks.length; r++) {
            on(r).embed(n);
        }
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            for (int r = 0; r < ranks.length; r++) {
                on(r).queueAttention(l, n);
            }
            allReduce(Op.O_ALL_REDUCE, l, n);
            for (int r = 0; r < ranks.length; r++) {
                on(r).queueMlp(l, n);
            }
            allReduce(Op.DOWN_ALL_REDUCE, l, n);
            for (int r = 0; r < ranks.length; r++) {
                on(r).addDownBias(l, n);
            }
        }
        if (m == 0) { // every sequence is mid-prompt (chunked prefill): no logits this step
            return;
        }
        for (int r = 0; r < ranks.length; r++) {
            on(r).queueLmHead(m);
        }
        if (exchange != null) {
            on(0);
            marks.at(0, Op.GATHER_LOGITS, -1);
            exchange.gatherLogits(m);
        }
    }

    /** The all-reduce of the ranks' partial sums in {@code delta}; nothing with one rank. */
    private void allReduce(Op op, int layer, int n) {
        if (exchange != null) {
            on(0); // the profiler marks rank 0's stream
            marks.at(0, op, layer);
            exchange.allReduceDeltas(n);
        }
    }

    /**
     * Rank {@code r}, its context made current when there are several (with one, the step made it current once: its
     * launches are the single-GPU engine's, with no context switches between them).
     */
    private CudaRank on(int r) {
        if (ranks.length > 1) {
            ranks[r].context.makeCurrent();
        }
        return ranks[r];
    }

    /** Rank 0's context current again: the sampler and the logits run there. */
    private void onFirst() {
        if (ranks.length > 1) {
            ranks[0].context.makeCurrent();
        }
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
            ranks[0].context.makeCurrent();
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

    private void requireCache(String what) {
        if (validator == null) {
            throw new IllegalStateException("allocateKvCache must run before " + what);
        }
    }

    /** Waits for every rank's stream. */
    private void synchronize(String what) {
        try {
            for (CudaRank rank : ranks) {
                rank.context.makeCurrent();
                rank.context.synchronize();
            }
            ranks[0].context.makeCurrent();
        } catch (CudaException e) {
            throw new CudaBackendException(what, e);
        }
    }

    private static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }

    /** Waits for queued work, then frees every device and pinned allocation and releases the contexts. */
    @Override
    public void close() {
        if (owned.isEmpty()) {
            return;
        }
        try {
            synchronize("the last step");
        } finally {
            numBlocks = 0;
            validator = null;
            ranks[0].context.makeCurrent();
            Resources.closeAll(owned);
        }
    }
}
