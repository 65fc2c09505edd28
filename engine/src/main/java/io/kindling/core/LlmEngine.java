package io.kindling.core;

import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.Backends;
import io.kindling.backend.Logits;
import io.kindling.model.Checkpoint;
import io.kindling.model.GenerationConfig;
import io.kindling.model.ModelConfig;
import io.kindling.sampling.BeamSearch;
import io.kindling.sampling.Draw;
import io.kindling.sampling.SampleResult;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.SamplingState;
import io.kindling.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

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
    private final int[] eosTokenIds;
    private final int maxModelLen;
    private final Map<String, RequestState> live = new HashMap<>();
    private final Map<Sequence, SampleState> samples = new IdentityHashMap<>();
    private final Map<String, BeamState> beamSearches = new HashMap<>();
    private final SplittableRandom fallbackSeeds = new SplittableRandom();
    private long nextSeqId;
    private long promptTokens;
    private long generationTokens;

    private LlmEngine(Checkpoint checkpoint, Tokenizer tokenizer, Backend backend, EngineConfig config) {
        this.checkpoint = checkpoint;
        this.tokenizer = tokenizer;
        this.backend = backend;
        long bytesPerBlock = backend.kvCacheBytesPerBlock(config.blockSize());
        long budget = config.kvCacheMemoryBytes() > 0 ? config.kvCacheMemoryBytes()
                : backend.kvCacheBudgetBytes().orElse(EngineConfig.CPU_KV_CACHE_MEMORY);
        long numBlocks = budget / bytesPerBlock;
        if (config.kvCacheMemoryBytes() == 0) {
            // An automatic budget too small for one sequence of a full step is a memory problem to report, whereas
            // an explicit one is the user's choice and only shortens the longest servable sequence (below).
            int tokens = Math.min(checkpoint.config().maxPositionEmbeddings(), config.maxNumBatchedTokens());
            long minBlocks = (tokens + config.blockSize() - 1) / config.blockSize();
            if (numBlocks < minBlocks) {
                throw new KvCacheMemoryException(backend.device(), budget, minBlocks * bytesPerBlock, tokens);
            }
        }
        if (numBlocks < 1) {
            throw new IllegalArgumentException("kv_cache_memory " + budget
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
    }

    /**
     * Loads the checkpoint, tokenizer and backend; sizes the KV cache from {@code config.kvCacheMemoryBytes()}, or
     * when that is 0 (auto) from what the backend can give ({@link Backend#kvCacheBudgetBytes()}).
     */
    public static LlmEngine open(EngineConfig config) {
        Checkpoint checkpoint = Checkpoint.open(config.model());
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.load(config.model());
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
        return open(config, checkpoint, tokenizer);
    }

    /**
     * An engine on an open checkpoint and tokenizer, which it then owns: for checkpoints not read from
     * {@code config.model()}, as random weights with {@link Tokenizer#none()} for benchmarks.
     */
    public static LlmEngine open(EngineConfig config, Checkpoint checkpoint, Tokenizer tokenizer) {
        try {
            Backend backend = Backends.create(config.device(), checkpoint, new BackendOptions(config.numThreads(),
                    config.gpuMemoryUtilization(), config.maxNumSeqs(), config.maxNumBatchedTokens(),
                    config.blockSize()));
            return new LlmEngine(checkpoint, tokenizer, backend, config);
        } catch (RuntimeException e) {
            tokenizer.close();
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

    /**
     * Queues a request. Sample {@code i} of {@code n} draws from its own generator, seeded with {@code seed + i}
     * (an unseeded request draws a random {@code seed}), so it equals the request run alone with that seed.
     *
     * @throws InvalidRequestException when it can never be served (empty, too long)
     */
    public void addRequest(Request request) {
        validate(request);
        SamplingParams params = request.params();
        Sequence seq = new Sequence(request.requestId(), nextSeqId++, request.promptTokenIds(), params);
        promptTokens += request.promptTokenIds().length;
        if (params.isBeamSearch()) {
            int maxNewTokens = Math.min(params.maxTokens(), maxModelLen - request.promptTokenIds().length);
            beamSearches.put(request.requestId(), new BeamState(request,
                    new BeamSearch(params, beamEosTokenIds(params), maxNewTokens), seq));
            scheduler.add(seq);
            return;
        }
        long seed = params.seed().orElseGet(fallbackSeeds::nextLong);
        List<SampleState> states = new ArrayList<>(params.n());
        for (int i = 0; i < params.n(); i++) {
            SamplingParams own = params.toBuilder().seed(seed + i).build(); // the generator's seed; all else shared
            SamplingState sampling = new SamplingState(own, request.promptTokenIds(), eosTokenIds, seed + i);
            states.add(new SampleState(request, sampling, tokenizer.newDetokenizer(request.promptTokenIds(), true)));
        }
        states.get(0).attach(seq);
        samples.put(seq, states.get(0));
        live.put(request.requestId(), new RequestState(request, states));
        scheduler.add(seq);
    }

    /** The ids that finish a beam: the model's EOS unless ignored, and the request's stop token ids. */
    private int[] beamEosTokenIds(SamplingParams params) {
        Set<Integer> ids = new LinkedHashSet<>();
        if (!params.ignoreEos()) {
            for (int id : eosTokenIds) {
                ids.add(id);
            }
        }
        ids.addAll(params.stopTokenIds());
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private void validate(Request request) {
        int[] prompt = request.promptTokenIds();
        String id = request.requestId();
        if (live.containsKey(id) || beamSearches.containsKey(id)) {
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
        SamplingParams params = request.params();
        if (params.isBeamSearch()) {
            // every beam needs its blocks at once: a step waits for all of them, so a cache too small would
            // preempt sibling beams forever
            int blockSize = kvCacheManager.blockSize();
            int maxLen = Math.min(maxModelLen, prompt.length + params.maxTokens());
            long needed = (long) params.beamWidth() * ((maxLen + blockSize - 1) / blockSize);
            if (needed > kvCacheManager.numBlocks()) {
                throw new InvalidRequestException(id, "beam search with " + params.beamWidth() + " beams of up to "
                        + maxLen + " tokens needs " + needed + " KV blocks; the cache has "
                        + kvCacheManager.numBlocks());
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
        Logits logits = runner.run(batch);
        List<int[]> sampled = sample(batch, logits);
        List<Sequence> updated = scheduler.postprocess(batch, sampled);
        List<RequestOutput> finished = processOutputs(updated);
        stepBeamSearches(batch, finished);
        return finished;
    }

    /** Runs the beam step of every beam search whose beams all have their logits now. */
    private void stepBeamSearches(SchedulerOutput batch, List<RequestOutput> finished) {
        Set<BeamState> touched = new LinkedHashSet<>();
        for (ScheduledSequence s : batch.scheduled()) {
            BeamState state = beamSearches.get(s.seq().requestId());
            if (state != null && s.samples()) {
                touched.add(state);
            }
        }
        for (BeamState state : touched) {
            if (state.tryStep(scheduler)) {
                beamSearches.remove(state.request.requestId());
                finished.add(state.finalOutput(tokenizer));
            } else {
                generationTokens += state.beams().size();
            }
        }
    }

    /**
     * Samples every sequence that produces a token, with the backend's sampler, where the logits are. A request
     * about to fork draws every sample's first token from its one logits row.
     *
     * @return per sampling sequence, its token, or its samples' first tokens in sample order when it forks, or
     *     null for a beam, which only hands its logits to its {@link BeamState}
     */
    private List<int[]> sample(SchedulerOutput batch, Logits logits) {
        List<Draw> draws = new ArrayList<>();
        List<SampleState> drawers = new ArrayList<>();
        List<Integer> drawsPerSeq = new ArrayList<>(logits.numRows());
        int row = 0;
        for (ScheduledSequence s : batch.scheduled()) {
            if (!s.samples()) {
                continue;
            }
            int r = row++;
            BeamState beamSearch = beamSearches.get(s.seq().requestId());
            if (beamSearch != null) { // the beam waits for its siblings' logits: stepBeamSearches decides
                beamSearch.putLogits(s.seq(), logits.row(r));
                drawsPerSeq.add(0);
                continue;
            }
            RequestState request = live.get(s.seq().requestId());
            List<SampleState> targets = request.forksNext() ? request.samples() : List.of(samples.get(s.seq()));
            for (SampleState target : targets) {
                draws.add(new Draw(r, target.sampling));
                drawers.add(target);
            }
            drawsPerSeq.add(targets.size());
        }
        SampleResult[] results = draws.isEmpty() ? new SampleResult[0] : backend.sampler().sample(logits, draws);
        List<int[]> next = new ArrayList<>(drawsPerSeq.size());
        int d = 0;
        for (int count : drawsPerSeq) {
            if (count == 0) {
                next.add(null);
                continue;
            }
            int[] tokens = new int[count];
            for (int i = 0; i < count; i++, d++) {
                drawers.get(d).sampling.accept(results[d].tokenId());
                drawers.get(d).addLogprobs(results[d].topLogprobs());
                tokens[i] = results[d].tokenId();
            }
            next.add(tokens);
        }
        return next;
    }

    private List<RequestOutput> processOutputs(List<Sequence> updated) {
        // a request finishes once all its samples have: several may in one step, so output after them all
        Set<RequestState> ended = new LinkedHashSet<>();
        for (Sequence seq : updated) {
            RequestState request = live.get(seq.requestId());
            SampleState sample = samples.get(seq);
            if (sample == null) { // a fork made this step
                sample = request.attachFork(seq);
                samples.put(seq, sample);
            }
            generationTokens++;
            if (sample.appendNewestToken() && !seq.isFinished()) {
                scheduler.finish(seq, FinishReason.STOP);
            }
            if (seq.isFinished()) {
                samples.remove(seq);
                ended.add(request);
            }
        }
        List<RequestOutput> finished = new ArrayList<>();
        for (RequestState request : ended) {
            if (request.isFinished()) {
                live.remove(request.request.requestId());
                finished.add(request.finalOutput());
            }
        }
        return finished;
    }

    /** Drops a live request (its task ended early); its blocks are freed at once. Unknown ids are ignored. */
    public void abort(String requestId) {
        BeamState beamSearch = beamSearches.remove(requestId);
        if (beamSearch != null) {
            beamSearch.abort(scheduler);
        }
        RequestState request = live.remove(requestId);
        if (request == null) {
            return;
        }
        for (SampleState sample : request.samples()) {
            if (sample.seq() != null) {
                samples.remove(sample.seq());
                scheduler.finish(sample.seq(), FinishReason.ABORT);
            }
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
        backend.close();
        tokenizer.close();
        checkpoint.close();
    }
}
