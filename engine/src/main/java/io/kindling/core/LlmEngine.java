package io.kindling.core;

import io.kindling.backend.Backend;
import io.kindling.backend.Backends;
import io.kindling.model.Checkpoint;
import io.kindling.model.GenerationConfig;
import io.kindling.model.ModelConfig;
import io.kindling.sampling.SampleResult;
import io.kindling.sampling.Sampler;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.SamplingState;
import io.kindling.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The engine: {@code batch = scheduler.schedule(); logits = runner.run(batch); scheduler.postprocess(batch, ids)}.
 * Not thread-safe: one thread owns it.
 */
public final class LlmEngine implements AutoCloseable {

    private final Checkpoint checkpoint;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private final KvCacheManager kvCacheManager;
    private final Scheduler scheduler;
    private final ModelRunner runner;
    private final Sampler sampler = new Sampler();
    private final ForkJoinPool samplingPool;
    private final int[] eosTokenIds;
    private final int maxModelLen;
    private final Map<String, RequestState> live = new HashMap<>();
    private final SplittableRandom fallbackSeeds = new SplittableRandom();
    private long nextSeqId;
    private long promptTokens;
    private long generationTokens;

    private LlmEngine(Checkpoint checkpoint, Tokenizer tokenizer, Backend backend, EngineConfig config) {
        this.checkpoint = checkpoint;
        this.tokenizer = tokenizer;
        this.backend = backend;
        long bytesPerBlock = backend.kvCacheBytesPerBlock(config.blockSize());
        long numBlocks = config.kvCacheMemoryBytes() / bytesPerBlock;
        if (numBlocks < 1) {
            throw new IllegalArgumentException("kv_cache_memory " + config.kvCacheMemoryBytes()
                    + " bytes is less than one KV block (" + bytesPerBlock + " bytes for block_size "
                    + config.blockSize() + ")");
        }
        numBlocks = Math.min(numBlocks, Integer.MAX_VALUE / config.blockSize());
        backend.allocateKvCache((int) numBlocks, config.blockSize());
        this.kvCacheManager = new KvCacheManager(new BlockPool((int) numBlocks), config.blockSize(),
                config.enablePrefixCaching());
        this.eosTokenIds = eosTokenIds(checkpoint, tokenizer);
        // A small KV budget shortens the longest servable sequence instead of failing: a sequence that fits
        // the whole cache can always finish, alone if need be.
        this.maxModelLen = (int) Math.min(checkpoint.config().maxPositionEmbeddings(), numBlocks * config.blockSize());
        this.scheduler = new Scheduler(SchedulerConfig.of(config.maxNumSeqs(), config.maxNumBatchedTokens(),
                maxModelLen), kvCacheManager, eosTokenIds);
        this.runner = new ModelRunner(backend, config.blockSize());
        this.samplingPool = new ForkJoinPool(config.numThreads());
    }

    /** Loads the checkpoint, tokenizer and backend; sizes the KV cache from {@code config.kvCacheMemoryBytes()}. */
    public static LlmEngine open(EngineConfig config) {
        Checkpoint checkpoint = Checkpoint.open(config.model());
        try {
            Tokenizer tokenizer = Tokenizer.load(config.model());
            Backend backend = Backends.create(config.device(), config.numThreads(), checkpoint);
            return new LlmEngine(checkpoint, tokenizer, backend, config);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /** The device the model runs on, as the backend describes it. */
    public String device() {
        return backend.device();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ModelConfig modelConfig() {
        return checkpoint.config();
    }

    /** The longest sequence (prompt + output) the engine serves. */
    public int maxModelLen() {
        return maxModelLen;
    }

    /** Sampling defaults: vLLM's, overridden by the checkpoint's generation_config.json. */
    public SamplingParams defaultSamplingParams() {
        GenerationConfig g = checkpoint.generationConfig();
        SamplingParams.Builder b = SamplingParams.builder().temperature(1.0);
        g.temperature().ifPresent(b::temperature);
        g.topP().ifPresent(b::topP);
        g.topK().ifPresent(b::topK);
        g.minP().ifPresent(b::minP);
        g.repetitionPenalty().ifPresent(b::repetitionPenalty);
        g.maxNewTokens().ifPresent(b::maxTokens);
        return b.build();
    }

    /** Queues a request. @throws InvalidRequestException when it can never be served (empty, too long) */
    public void addRequest(Request request) {
        validate(request);
        Sequence seq = new Sequence(request.requestId(), nextSeqId++, request.promptTokenIds(), request.params());
        SamplingState sampling = new SamplingState(request.params(), request.promptTokenIds(), eosTokenIds,
                fallbackSeeds.nextLong());
        live.put(request.requestId(), new RequestState(request, seq, sampling,
                tokenizer.newDetokenizer(request.promptTokenIds(), true)));
        scheduler.add(seq);
        promptTokens += request.promptTokenIds().length;
    }

    private void validate(Request request) {
        int[] prompt = request.promptTokenIds();
        String id = request.requestId();
        if (live.containsKey(id)) {
            throw new InvalidRequestException(id, "a request with this id is already running");
        }
        if (prompt.length == 0) {
            throw new InvalidRequestException(id, "prompt is empty");
        }
        int vocabSize = checkpoint.config().vocabSize();
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocabSize) {
                throw new InvalidRequestException(id, "prompt token id " + prompt[i] + " at index " + i
                        + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        if (prompt.length >= maxModelLen) {
            throw new InvalidRequestException(id, "prompt has " + prompt.length + " tokens; at most "
                    + (maxModelLen - 1) + " fit (context " + checkpoint.config().maxPositionEmbeddings()
                    + " tokens, KV cache " + (long) kvCacheManager.numBlocks() * kvCacheManager.blockSize() + ")");
        }
    }

    /** Runs one step; returns the requests that finished in it. */
    public List<RequestOutput> step() {
        SchedulerOutput batch = scheduler.schedule();
        if (batch.scheduled().isEmpty()) {
            return List.of();
        }
        float[][] logits = runner.run(batch);
        int[] sampled = sample(batch, logits);
        List<Sequence> updated = scheduler.postprocess(batch, sampled);
        return processOutputs(updated);
    }

    /** Samples every sequence that produces a token; in parallel, as each draws only from its own generator. */
    private int[] sample(SchedulerOutput batch, float[][] logits) {
        List<RequestState> states = new ArrayList<>(logits.length);
        for (ScheduledSequence s : batch.scheduled()) {
            if (s.samples()) {
                states.add(live.get(s.seq().requestId()));
            }
        }
        SampleResult[] results = new SampleResult[states.size()];
        samplingPool.submit(() -> IntStream.range(0, results.length).parallel()
                .forEach(i -> results[i] = sampler.sample(logits[i], states.get(i).sampling))).join();
        int[] sampled = new int[results.length];
        for (int i = 0; i < results.length; i++) {
            RequestState state = states.get(i);
            state.sampling.accept(results[i].tokenId());
            state.addLogprobs(results[i].topLogprobs());
            sampled[i] = results[i].tokenId();
        }
        return sampled;
    }

    private List<RequestOutput> processOutputs(List<Sequence> updated) {
        List<RequestOutput> finished = new ArrayList<>();
        for (Sequence seq : updated) {
            RequestState state = live.get(seq.requestId());
            generationTokens++;
            if (state.appendNewestToken() && !seq.isFinished()) {
                scheduler.finish(seq, FinishReason.STOP);
            }
            if (seq.isFinished()) {
                live.remove(seq.requestId());
                finished.add(state.finalOutput(seq.finishReason().orElseThrow()));
            }
        }
        return finished;
    }

    /** Drops a live request (its task ended early); its blocks are freed at once. Unknown ids are ignored. */
    public void abort(String requestId) {
        RequestState state = live.remove(requestId);
        if (state != null) {
            scheduler.finish(state.seq, FinishReason.ABORT);
        }
    }

    public boolean hasUnfinishedRequests() {
        return scheduler.hasUnfinished();
    }

    public EngineStats stats() {
        return new EngineStats(scheduler.numRunning(), scheduler.numWaiting(), promptTokens, generationTokens,
                scheduler.numPreemptions(), kvCacheManager.numBlocks(), kvCacheManager.numFreeBlocks(),
                kvCacheManager.blockSize(), backend.kvCacheBytesPerBlock(kvCacheManager.blockSize()),
                scheduler.numComputedPromptTokens(), kvCacheManager.stats());
    }

    /** Runs the requests to completion; outputs in the order given, an error output for each invalid request. */
    public List<RequestOutput> generate(List<Request> requests) {
        Map<String, RequestOutput> outputs = new HashMap<>();
        for (Request r : requests) {
            try {
                addRequest(r);
            } catch (InvalidRequestException e) {
                outputs.put(r.requestId(), RequestState.error(r, e.getMessage()));
            }
        }
        while (hasUnfinishedRequests()) {
            for (RequestOutput o : step()) {
                outputs.put(o.requestId(), o);
            }
        }
        List<RequestOutput> ordered = new ArrayList<>(requests.size());
        for (Request r : requests) {
            ordered.add(outputs.get(r.requestId()));
        }
        return ordered;
    }

    private static int[] eosTokenIds(Checkpoint checkpoint, Tokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>(checkpoint.config().eosTokenIds());
        ids.addAll(checkpoint.generationConfig().eosTokenIds());
        if (ids.isEmpty()) {
            tokenizer.eosTokenId().ifPresent(ids::add);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public void close() {
        samplingPool.shutdown();
        backend.close();
        tokenizer.close();
        checkpoint.close();
    }
}
