package io.kindling.core;

import io.kindling.backend.Backend;
import io.kindling.backend.BackendOptions;
import io.kindling.backend.Backends;
import io.kindling.backend.BatchLimits;
import io.kindling.backend.Logits;
import io.kindling.backend.StepProfile;
import io.kindling.model.Checkpoint;
import io.kindling.model.GenerationConfig;
import io.kindling.model.ModelConfig;
import io.kindling.sampling.BeamSearch;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.SamplingState;
import io.kindling.structured.ConstraintState;
import io.kindling.structured.Grammar;
import io.kindling.structured.Grammars;
import io.kindling.structured.StructuredOutput;
import io.kindling.structured.StructuredOutputException;
import io.kindling.structured.TokenVocabulary;
import io.kindling.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The engine: {@code batch = scheduler.schedule(); logits = runner.run(batch); scheduler.postprocess(batch)}, then
 * each request's {@link RequestGroup} draws its tokens and extends, forks or drops its sequences.
 * {@code docs/architecture.md} maps the whole path. Not thread-safe: one thread owns it.
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
    private final int maxNumSeqs;
    private final Map<String, RequestGroup> live = new HashMap<>();
    private final SplittableRandom fallbackSeeds = new SplittableRandom();
    private long nextSeqId;
    private long promptTokens;
    private long generationTokens;
    /** The last step's {@link StepTimes}, kept as fields so that a step allocates no record; -1: it ran nothing. */
    private long lastScheduleNanos = -1;
    private long lastForwardNanos;
    private long lastPostprocessNanos;
    private long numSteps;
    private long scheduledSeqs;
    /**
     * Asynchronous scheduling (vLLM's {@code async_scheduling}): step N + 1 is scheduled and queued, its decode rows'
     * input ids taken on the device from step N's draws, before the host takes step N's tokens; then the host
     * appends them, checks stops and detokenizes while the device runs step N + 1, and a sequence that finished in
     * step N wastes its row of step N + 1. A step whose draws fork (the first token of {@code n > 1}) or feed a beam
     * step is finished before the next is scheduled, as without it. On where the backend takes deferred input ids
     * ({@link Backend#takesDeferredTokens}) unless {@code -Dkindling.asyncScheduling=false}.
     */
    private boolean asyncScheduling;
    /** The last launched step, refilled by every launch once its tokens were taken. */
    private final LaunchedStep launched = new LaunchedStep();
    /** With asynchronous scheduling: whether {@link #launched} is in flight, its draws queued, its tokens not taken. */
    private boolean inFlight;
    /** Host time waiting for (and launching) draws in the current (after it, the last) step. */
    private long sampleNanos;
    /** Structured output's compiled constraints, made on the first request that has one. */
    private Grammars grammars;

    /** An engine over a backend made elsewhere (a benchmark's stub); it owns all three. */
    LlmEngine(Checkpoint checkpoint, Tokenizer tokenizer, Backend backend, EngineConfig config) {
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
            throw new EngineConfigException(config.kvCacheMemoryBytes() > 0 ? "kv_cache_memory"
                    : "gpu_memory_utilization", "a KV cache of " + budget + " bytes is less than one KV block ("
                    + bytesPerBlock + " bytes for block_size " + config.blockSize() + ")");
        }
        numBlocks = Math.min(numBlocks, Integer.MAX_VALUE / config.blockSize());
        backend.allocateKvCache((int) numBlocks, config.blockSize());
        this.kvCacheManager = new KvCacheManager(new BlockPool((int) numBlocks, config.blockSize()),
                config.enablePrefixCaching());
        this.eosTokenIds = eosTokenIds(checkpoint, tokenizer);
        // finish_reason "length" means max_tokens or this context, never the cache: a request that could not fit
        // the cache alone is refused when added (validate), so every admitted one can finish, alone if need be
        this.maxModelLen = checkpoint.config().maxPositionEmbeddings();
        BatchLimits limits = new BatchLimits(config.maxNumSeqs(), config.maxNumBatchedTokens())
                .orDefaults(backend.batchLimits());
        this.maxNumSeqs = limits.maxNumSeqs();
        this.scheduler = new Scheduler(SchedulerConfig.of(limits.maxNumSeqs(), limits.maxNumBatchedTokens(),
                maxModelLen), kvCacheManager, eosTokenIds);
        this.runner = new ModelRunner(backend, config.blockSize());
        this.asyncScheduling = backend.takesDeferredTokens()
                && Boolean.parseBoolean(System.getProperty("kindling.asyncScheduling", "true"));
    }

    /**
     * Turns asynchronous scheduling off or (where the backend allows it) on, between steps: for comparing the two.
     *
     * @throws IllegalStateException while a step is in flight, or asked to turn it on where the backend cannot
     */
    public void setAsyncScheduling(boolean on) {
        if (hasUnfinishedRequests()) {
            throw new IllegalStateException("requests are running; change async scheduling when the engine is idle");
        }
        if (on && !backend.takesDeferredTokens()) {
            throw new IllegalStateException(backend.device() + " does not take deferred input tokens");
        }
        asyncScheduling = on;
    }

    /**
     * Loads the checkpoint, tokenizer and backend; sizes the KV cache from {@code config.kvCacheMemoryBytes()}, or
     * when that is 0 (auto) from what the backend can give ({@link Backend#kvCacheBudgetBytes()}).
     */
    public static LlmEngine open(EngineConfig config) {
        Checkpoint checkpoint = Checkpoint.open(config.model());
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.forModel(config.model());
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
                    config.blockSize(), config.tensorParallelSize()));
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

    /** Most sequences in one step: the configured limit, or the device's default for auto. */
    public int maxNumSeqs() {
        return maxNumSeqs;
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
        int maxNewTokens = Math.min(params.maxTokens(), maxModelLen - request.promptTokenIds().length);
        Optional<Grammar> grammar = compileConstraint(request);
        Sequence seq = new Sequence(request.requestId(), nextSeqId++, request.promptTokenIds(), params);
        promptTokens += request.promptTokenIds().length;
        if (params.isBeamSearch()) {
            live.put(request.requestId(), new BeamSearchRequest(request,
                    new BeamSearch(params, beamEosTokenIds(params), maxNewTokens),
                    grammar.map(g -> new ConstraintState(g, maxNewTokens)), seq));
            scheduler.add(seq);
            return;
        }
        long seed = params.seed().orElseGet(fallbackSeeds::nextLong);
        List<SampleState> states = new ArrayList<>(params.n());
        for (int i = 0; i < params.n(); i++) {
            SamplingParams own = params.toBuilder().seed(seed + i).build(); // the generator's seed; all else shared
            SamplingState sampling = new SamplingState(own, request.promptTokenIds(), eosTokenIds, seed + i,
                    grammar.map(g -> new ConstraintState(g, maxNewTokens)));
            states.add(new SampleState(request, sampling, tokenizer));
        }
        live.put(request.requestId(), new SampledRequest(request, states, seq));
        scheduler.add(seq);
    }

    /** The request's constraint compiled for this model's vocabulary (cached by its text), if it has one. */
    private Optional<Grammar> compileConstraint(Request request) {
        Optional<StructuredOutput> constraint = request.params().structuredOutput();
        if (constraint.isEmpty()) {
            return Optional.empty();
        }
        if (tokenizer.tokenBytes().length == 0) {
            throw new InvalidRequestException(request.requestId(), "structured output needs the model's "
                    + "tokenizer.json, which it does not have");
        }
        if (grammars == null) {
            grammars = new Grammars(new TokenVocabulary(tokenizer.tokenBytes(), checkpoint.config().vocabSize(),
                    eosTokenIds, tokenizer.stripsLeadingSpace()));
        }
        try {
            return Optional.of(grammars.compile(constraint.get()));
        } catch (StructuredOutputException e) {
            throw new InvalidRequestException(request.requestId(), e.getMessage());
        }
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
        SamplingParams params = request.params();
        if (!params.stop().isEmpty() && !tokenizer.isAvailable()) {
            throw new InvalidRequestException(id, "stop strings need the model's tokenizer.json, which it does not "
                    + "have; give stop_token_ids instead");
        }
        if (prompt.length >= maxModelLen) {
            throw new InvalidRequestException(id, "prompt has " + prompt.length + " tokens; at most "
                    + (maxModelLen - 1) + " fit the model's context of " + maxModelLen + " tokens");
        }
        // each sequence must fit the cache alone at its longest, or it could only be preempted or cut short;
        // every beam needs its blocks at once (a step waits for all of them), or siblings preempt each other forever
        int blockSize = kvCacheManager.blockSize();
        int maxLen = (int) Math.min(maxModelLen, (long) prompt.length + params.maxTokens());
        int sequences = params.isBeamSearch() ? params.beamWidth() : 1;
        long blocks = (long) sequences * ((maxLen + blockSize - 1) / blockSize);
        if (blocks > kvCacheManager.numBlocks()) {
            throw new InvalidRequestException(id, (params.isBeamSearch() ? "beam search with " + sequences
                    + " beams of" : "a sequence of") + " up to " + maxLen + " tokens (prompt " + prompt.length
                    + " tokens, max_tokens " + params.maxTokens() + ") needs " + blocks + " KV blocks of " + blockSize
                    + " tokens, but the KV cache has " + kvCacheManager.numBlocks() + "; raise kv_cache_memory "
                    + "(--kv-cache-memory, Spark: kvCacheMemory) or lower max_tokens");
        }
    }

    /**
     * Runs one step; returns the requests that finished in it. With asynchronous scheduling, the step's forward pass
     * and draws are queued first, and the previous step's tokens, which its inputs may take on the device, are
     * taken (and its finished requests returned) while the device runs it: see {@link #asyncScheduling}.
     */
    public List<RequestOutput> step() {
        long t0 = System.nanoTime();
        boolean previous = inFlight;
        inFlight = false;
        if (previous) { // every drawing sequence of it continues: schedule its tokens before they are known
            launched.draws.appendPendingTokens(scheduler);
        }
        SchedulerOutput batch = scheduler.schedule();
        if (batch.isEmpty() && !previous) {
            lastScheduleNanos = -1;
            return List.of();
        }
        long t1 = System.nanoTime();
        Logits logits = null;
        if (!batch.isEmpty()) {
            numSteps++;
            scheduledSeqs += batch.numScheduled();
            logits = runner.run(batch);
        }
        long t2 = System.nanoTime();
        sampleNanos = 0;
        List<RequestOutput> finished = previous ? finishLaunched(List.of()) : List.of();
        if (logits != null) {
            launch(batch, logits);
            if (asyncScheduling && launched.continuesWithDraws) {
                inFlight = true;
            } else { // the host needs these tokens before it can schedule on (forks, beams), or async is off
                finished = finishLaunched(finished);
            }
        }
        lastPostprocessNanos = System.nanoTime() - t2 - sampleNanos;
        lastScheduleNanos = t1 - t0;
        lastForwardNanos = t2 - t1;
        return finished;
    }

    /** A step whose forward pass and draws are queued, its tokens not yet taken. */
    private static final class LaunchedStep {

        final StepDraws draws = new StepDraws();
        /** The requests that queued draws in it, each once ({@link RequestGroup#lastDrawStep}), in batch order. */
        final List<RequestGroup> groups = new ArrayList<>();
        /**
         * Whether every drawing sequence continues with its own token (no fork, no beam step), so that the next step
         * may be scheduled before the tokens are known.
         */
        boolean continuesWithDraws;
    }

    /** The scheduled tokens become computed; each live request queues its draws, which are launched. */
    private void launch(SchedulerOutput batch, Logits logits) {
        List<Sequence> rows = scheduler.postprocess(batch);
        LaunchedStep step = launched;
        step.draws.clear();
        step.groups.clear();
        step.continuesWithDraws = true;
        for (int row = 0; row < rows.size(); row++) {
            Sequence seq = rows.get(row);
            if (!seq.isFinished()) { // else: finished (or aborted) since it was scheduled; its row is wasted
                RequestGroup group = live.get(seq.requestId());
                group.onLogits(seq, row, logits, step.draws);
                if (group.lastDrawStep != numSteps) {
                    group.lastDrawStep = numSteps;
                    step.groups.add(group);
                    step.continuesWithDraws &= group.continuesWithDraws();
                }
            }
        }
        long t = System.nanoTime();
        step.draws.launch(backend.sampler(), logits);
        sampleNanos += System.nanoTime() - t;
    }

    /**
     * Waits for the launched step's draws, then appends, forks or finishes its requests' sequences.
     *
     * @param finished the outputs of requests finished so far in this step
     * @return them and the requests this finishes; a new list only when one finishes (most steps need none)
     */
    private List<RequestOutput> finishLaunched(List<RequestOutput> finished) {
        long t = System.nanoTime();
        launched.draws.await();
        sampleNanos += System.nanoTime() - t;
        List<RequestGroup> groups = launched.groups;
        for (int i = 0; i < groups.size(); i++) {
            RequestGroup group = groups.get(i);
            if (live.get(group.request.requestId()) != group) { // aborted while its draws ran
                continue;
            }
            generationTokens += group.advance(scheduler);
            if (group.isFinished()) {
                live.remove(group.request.requestId());
                if (finished.isEmpty()) {
                    finished = new ArrayList<>();
                }
                finished.add(group.finalOutput(tokenizer));
            }
        }
        scheduler.endStep();
        return finished;
    }

    /** Host time of the last step's phases ({@link StepTimes#NONE} when it had nothing to run). */
    public StepTimes lastStepTimes() {
        return lastScheduleNanos < 0 ? StepTimes.NONE
                : new StepTimes(lastScheduleNanos, lastForwardNanos, sampleNanos, lastPostprocessNanos);
    }

    /**
     * Asks the backend to time each op family of the next step on the device (slowing that step down); false when
     * the backend cannot.
     */
    public boolean profileNextStep() {
        return backend.profileNextStep();
    }

    /** What the backend saw of the last step's forward pass, where it counts it. */
    public Optional<StepProfile> lastStepProfile() {
        return backend.lastStepProfile();
    }

    /** Drops a live request (its task ended early); its blocks are freed at once. Unknown ids are ignored. */
    public void abort(String requestId) {
        RequestGroup group = live.remove(requestId);
        if (group != null) {
            group.abort(scheduler);
        }
    }

    public boolean hasUnfinishedRequests() {
        // a step in flight holds running sequences until its tokens are appended, unless all were aborted
        return scheduler.hasUnfinished();
    }

    public EngineStats stats() {
        return new EngineStats(scheduler.numRunning(), scheduler.numWaiting(), promptTokens, generationTokens,
                scheduler.numPreemptions(), kvCacheManager.numBlocks(), kvCacheManager.numFreeBlocks(),
                kvCacheManager.blockSize(), backend.kvCacheBytesPerBlock(kvCacheManager.blockSize()),
                scheduler.numComputedPromptTokens(), kvCacheManager.stats(), numSteps, scheduledSeqs);
    }

    /** Runs the requests to completion; outputs in the order given, an error output for each invalid request. */
    public List<RequestOutput> generate(List<Request> requests) {
        Map<String, RequestOutput> outputs = new HashMap<>();
        for (Request r : requests) {
            try {
                addRequest(r);
            } catch (InvalidRequestException e) {
                outputs.put(r.requestId(), RequestGroup.error(r, e.problem()));
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
