package io.kindling.cli;

import io.kindling.core.CompletionOutput;
import io.kindling.core.EngineConfig;
import io.kindling.core.EngineStats;
import io.kindling.core.KvCacheStats;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.model.Checkpoint;
import io.kindling.model.ModelConfig;
import io.kindling.model.ModelLoadException;
import io.kindling.sampling.SamplingParams;
import io.kindling.tokenizer.Tokenizer;
import io.kindling.structured.StructuredOutput;
import io.kindling.structured.StructuredOutputException;
import io.kindling.structured.StructuredOutputs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kindling bench}: offline throughput as vLLM's {@code bench throughput} measures it. Seeded random prompts
 * (token ids uniform over the vocabulary) are all submitted at once with {@code ignore_eos}, so every request
 * generates exactly its output length; the clock runs from the first submission to the last completion. With
 * {@code --shared-prefix-len}, every prompt starts with the same random prefix, the workload of a partition
 * whose rows share a system prompt. Besides throughput it reports the KV cache figures of the PagedAttention
 * paper: waste (empty slots of allocated blocks), prefix cache hits and blocks saved by sharing. With
 * {@code --random-weights} it needs only a model's {@code config.json}; {@code --save-workload} writes the
 * prompts for the Hugging Face baseline and {@code --json-out} the figures.
 */
@Command(name = "bench", sortOptions = false, description = "Measures offline throughput on random prompts.")
final class BenchCommand implements Callable<Integer> {

    /** The wide mix's default length range (benchmarks/RESULTS.md, "GPU throughput against Hugging Face"). */
    static final int WIDE_MIN = 16;
    static final int WIDE_MAX = 1024;

    enum Dataset { fixed, wide }

    @Spec
    CommandSpec spec;

    @Mixin
    EngineOptions engineOptions;

    @Option(names = "--num-prompts", paramLabel = "N", description = "Requests to run (default: 64).")
    int numPrompts = 64;

    @Option(names = "--input-len", paramLabel = "L", description = "Prompt tokens, fixed dataset (default: 128).")
    int inputLen = 128;

    @Option(names = "--output-len", paramLabel = "O", description = "Output tokens, fixed dataset (default: 128).")
    int outputLen = 128;

    @Option(names = "--dataset", paramLabel = "KIND",
            description = "fixed (--input-len/--output-len) or wide (each length uniform in [--wide-min, "
                    + "--wide-max]).")
    Dataset dataset = Dataset.fixed;

    @Option(names = "--wide-min", paramLabel = "L", description = "Shortest length of the wide mix (default: 16).")
    int wideMin = WIDE_MIN;

    @Option(names = "--wide-max", paramLabel = "L",
            description = "Longest length of the wide mix (default: 1024); prompt and output must fit the model's "
                    + "context.")
    int wideMax = WIDE_MAX;

    @Option(names = "--shared-prefix-len", paramLabel = "N",
            description = "Start every prompt with the same N random tokens, before its own (default: 0).")
    int sharedPrefixLen;

    @Option(names = "--n", descriptionKey = "bench.n", paramLabel = "N",
            description = "Samples per request, sharing the prompt's blocks; with --beam-width, beams returned "
                    + "(default: 1).")
    int n = 1;

    @Option(names = "--beam-width", descriptionKey = "bench.beam-width", paramLabel = "W",
            description = "Beam search with W beams instead of sampling (default: 0, sampling).")
    int beamWidth;

    @Option(names = "--seed", descriptionKey = "bench.seed", paramLabel = "S", description = "Seed of the prompts and their lengths (default: 0).")
    long seed;

    @Option(names = "--warmup", paramLabel = "STEPS",
            description = "Before timing, run a warm-up batch of this many output tokens (default: 0).")
    int warmup;

    @Option(names = "--random-weights",
            description = "Seeded random bf16 weights (seed --seed) of the shape --model describes: a config.json "
                    + "or a directory holding one; no weight or tokenizer files are read.")
    boolean randomWeights;

    @Option(names = "--save-workload", paramLabel = "FILE",
            description = "Write the timed requests as JSON lines (request_id, prompt_token_ids, output_len), "
                    + "for benchmarks/hf_baseline.py.")
    Path saveWorkload;

    @Option(names = "--json-out", paramLabel = "FILE", description = "Write the measured figures as JSON.")
    Path jsonOut;

    @Option(names = "--json-schema", paramLabel = "FILE",
            description = "Constrain every request's output to this JSON schema (structured output), to measure what "
                    + "the constraint costs against the same run without it; needs a tokenizer (--tokenizer with "
                    + "--random-weights).")
    Path jsonSchema;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "With --random-weights and --json-schema: a directory whose tokenizer.json gives the "
                    + "vocabulary's bytes (its size must match the shape's vocab).")
    Path tokenizerDir;

    @Option(names = "--profile",
            description = "Print where a decode step's time goes at the largest batch: host phases, launches and "
                    + "each op family's device time (every fourth step is profiled, slower, and not timed).")
    boolean profile;

    /** Of the steps of a --profile run, every PROFILE_EVERY-th is profiled. */
    private static final int PROFILE_EVERY = 4;

    /** One request's lengths. */
    record Shape(int inputLen, int outputLen) {
    }

    /**
     * What a timed run measured.
     *
     * @param computedPromptTokens prompt tokens the model computed, the rest being prefix cache hits
     * @param kv the KV cache figures of this run alone; its peaks are polled after each step
     * @param meanBatch sequences a step ran, on average over the run's steps
     */
    record Result(int requests, long promptTokens, long outputTokens, double seconds, long preemptions,
                  double meanBatch, int numBlocks, int blockSize, long computedPromptTokens, KvCacheStats kv,
                  DecodeSteps.Median decodeStep, String profile) {

        String report() {
            String prefixCache = kv.prefixCachingEnabled()
                    ? String.format(Locale.ROOT, "on, hit rate %.2f%% (%d of %d tokens looked up)",
                            100 * kv.prefixCacheHitRate(), kv.hitTokens(), kv.queriedTokens())
                    : "off";
            return String.format(Locale.ROOT, """
                    Throughput: %.2f requests/s, %.2f total tokens/s, %.2f output tokens/s
                    Elapsed: %.2f s for %d requests (%d prompt + %d output tokens)
                    Preemptions: %d
                    Mean batch: %.1f sequences a step
                    Prefill: %d of %d prompt tokens computed (%.2f%%)
                    Prefix cache: %s
                    KV cache: peak %d of %d blocks (%.1f%%), %d tokens a block
                    KV waste: %.2f%% of allocated token slots empty, averaged over steps
                    KV sharing: peak %d blocks saved, %.2f%% fewer blocks than unshared, averaged over steps
                    %s
                    """, requests / seconds, (promptTokens + outputTokens) / seconds, outputTokens / seconds,
                    seconds, requests, promptTokens, outputTokens, preemptions, meanBatch, computedPromptTokens,
                    promptTokens,
                    promptTokens == 0 ? 0.0 : 100.0 * computedPromptTokens / promptTokens, prefixCache,
                    kv.peakUsedBlocks(), numBlocks, numBlocks == 0 ? 0.0 : 100.0 * kv.peakUsedBlocks() / numBlocks,
                    blockSize, 100 * kv.waste(), kv.peakSharedBlocks(), 100 * kv.sharingSaving(),
                    decodeStep.report()) + profile;
        }
    }

    @Override
    public Integer call() {
        EngineConfig config = engineOptions.config();
        engineOptions.requirePositive("--num-prompts", numPrompts);
        engineOptions.requirePositive("--input-len", inputLen);
        engineOptions.requirePositive("--output-len", outputLen);
        engineOptions.requirePositive("--wide-min", wideMin);
        if (wideMax < wideMin) {
            throw engineOptions.invalid("--wide-max", "must be >= --wide-min " + wideMin + ", got " + wideMax);
        }
        if (sharedPrefixLen < 0) {
            throw engineOptions.invalid("--shared-prefix-len", "must be >= 0, got " + sharedPrefixLen);
        }
        if (warmup < 0) {
            throw engineOptions.invalid("--warmup", "must be >= 0, got " + warmup);
        }
        if (tokenizerDir != null && (!randomWeights || jsonSchema == null)) {
            throw engineOptions.invalid("--tokenizer", "applies to --random-weights with --json-schema only");
        }
        StructuredOutput constraint = jsonSchema == null ? null : readSchema(jsonSchema);
        PrintWriter out = spec.commandLine().getOut();
        try (LlmEngine engine = randomWeights ? openRandom(config, seed, tokenizerDir) : GenerateCommand.open(config)) {
            ModelConfig model = engine.modelConfig();
            String workload = String.format(Locale.ROOT, "%d prompts, dataset %s (%s)%s, seed %d", numPrompts,
                    dataset, dataset == Dataset.fixed ? "input " + inputLen + ", output " + outputLen + " tokens"
                            : "lengths " + wideMin + " to " + wideMax,
                    sharedPrefixLen > 0 ? ", shared prefix " + sharedPrefixLen + " tokens" : "", seed);
            out.printf(Locale.ROOT, "Model: %s (%s%s, %d layers, hidden %d, vocab %d)%n", config.model(),
                    model.architecture().hfName(), randomWeights ? ", random weights" : "", model.numHiddenLayers(),
                    model.hiddenSize(), model.vocabSize());
            out.printf(Locale.ROOT, "Device: %s%n", engine.device());
            out.printf(Locale.ROOT, "Prompts: %s%n", workload);
            if (constraint != null) {
                out.printf(Locale.ROOT, "Structured output: every request under the JSON schema %s%n", jsonSchema);
            }
            out.flush();
            if (warmup > 0) {
                Random random = new Random(~seed);
                List<Shape> shapes = shapes(Math.min(numPrompts, engine.maxNumSeqs()), random).stream()
                        .map(s -> new Shape(s.inputLen(), warmup)).toList();
                measure(engine, requests("warmup-", shapes, sharedPrefixLen, model.vocabSize(), random).stream()
                        .map(r -> new Request(r.requestId(), r.promptTokenIds(),
                                constrained(r.params().toBuilder(), constraint).build())).toList(), false);
            }
            Random random = new Random(seed);
            List<Request> requests = requests("bench-", shapes(numPrompts, random), sharedPrefixLen,
                    model.vocabSize(), random).stream()
                    .map(r -> new Request(r.requestId(), r.promptTokenIds(), constrained(
                            r.params().toBuilder().n(n).beamWidth(beamWidth), constraint).build()))
                    .toList();
            if (saveWorkload != null) {
                BenchFiles.saveWorkload(saveWorkload, requests);
            }
            Result result = measure(engine, requests, profile);
            out.print(result.report());
            out.flush();
            if (jsonOut != null) {
                BenchFiles.saveResult(jsonOut, result, config.model().toString(), engine.device(), workload);
            }
        }
        return 0;
    }

    /**
     * With ignore_eos, a constrained output that is complete early goes on with EOS tokens (the only ones its
     * automaton then allows) up to its length, so both runs generate the same number of tokens.
     */
    private static SamplingParams.Builder constrained(SamplingParams.Builder b, StructuredOutput constraint) {
        return constraint == null ? b : b.structuredOutput(constraint);
    }

    private static StructuredOutput readSchema(Path file) {
        try {
            return StructuredOutputs.validated(StructuredOutputs.responseFormat(Files.readString(file)));
        } catch (IOException e) {
            throw new CliException("cannot read --json-schema " + file + ": " + e.getMessage(), e);
        } catch (StructuredOutputException e) {
            throw new CliException("--json-schema " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * An engine on random weights of the configured shape; it reads token ids only, so needs no tokenizer, except
     * the vocabulary's bytes for a constraint.
     */
    private static LlmEngine openRandom(EngineConfig config, long seed, Path tokenizerDir) {
        try {
            return LlmEngine.open(config, Checkpoint.withRandomWeights(config.model(), seed),
                    tokenizerDir == null ? Tokenizer.none() : Tokenizer.vocabularyOnly(tokenizerDir));
        } catch (ModelLoadException | IllegalArgumentException e) {
            throw new CliException("cannot load model shape " + config.model() + ": " + e.getMessage(), e);
        }
    }

    List<Shape> shapes(int count, Random random) {
        List<Shape> shapes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            shapes.add(dataset == Dataset.fixed ? new Shape(inputLen, outputLen)
                    : new Shape(uniform(random, wideMin, wideMax), uniform(random, wideMin, wideMax)));
        }
        return shapes;
    }

    private static int uniform(Random random, int min, int max) {
        return min + random.nextInt(max - min + 1);
    }

    /**
     * Random prompts of the given shapes, each after the same random prefix of {@code sharedPrefixLen} tokens;
     * sampled at temperature 1 (as vLLM's benchmark) with ignore_eos.
     */
    static List<Request> requests(String idPrefix, List<Shape> shapes, int sharedPrefixLen, int vocabSize,
                                  Random random) {
        int[] prefix = random.ints(sharedPrefixLen, 0, vocabSize).toArray();
        List<Request> requests = new ArrayList<>(shapes.size());
        for (int i = 0; i < shapes.size(); i++) {
            Shape shape = shapes.get(i);
            int[] ids = Arrays.copyOf(prefix, sharedPrefixLen + shape.inputLen());
            System.arraycopy(random.ints(shape.inputLen(), 0, vocabSize).toArray(), 0, ids, sharedPrefixLen,
                    shape.inputLen());
            SamplingParams params = SamplingParams.builder().temperature(1.0).topP(1.0).ignoreEos(true)
                    .maxTokens(shape.outputLen()).build();
            requests.add(new Request(idPrefix + i, ids, params));
        }
        return requests;
    }

    private static Result measure(LlmEngine engine, List<Request> requests, boolean profile) {
        EngineStats before = engine.stats();
        long start = System.nanoTime();
        for (Request r : requests) {
            engine.addRequest(r);
        }
        long outputTokens = 0;
        int peakUsed = 0;
        int peakShared = 0;
        DecodeSteps decodeSteps = new DecodeSteps();
        StepProfiles profiles = new StepProfiles();
        EngineStats last = before;
        for (long step = 0; engine.hasUnfinishedRequests(); step++) {
            boolean profiled = profile && step % PROFILE_EVERY == PROFILE_EVERY - 1 && engine.profileNextStep();
            long stepStart = System.nanoTime();
            for (RequestOutput output : engine.step()) {
                for (CompletionOutput c : output.completions()) {
                    outputTokens += c.tokenIds().length;
                }
            }
            long stepNanos = System.nanoTime() - stepStart;
            EngineStats s = engine.stats();
            if (s.computedPromptTokens() == last.computedPromptTokens()) {
                int batch = (int) (s.generationTokens() - last.generationTokens());
                if (profiled) {
                    engine.lastStepProfile().ifPresent(p -> profiles.recordProfiled(batch, p));
                } else {
                    decodeSteps.record(batch, stepNanos);
                    if (profile) {
                        engine.lastStepProfile().ifPresent(p -> profiles.recordTimed(batch, engine.lastStepTimes(),
                                p, stepNanos));
                    }
                }
            } else if (profiled) {
                engine.lastStepProfile(); // ends the recording
            }
            last = s;
            peakUsed = Math.max(peakUsed, s.numBlocks() - s.numFreeBlocks());
            peakShared = Math.max(peakShared, s.kvCache().sharedBlocks());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        EngineStats after = engine.stats();
        long promptTokens = requests.stream().mapToLong(r -> r.promptTokenIds().length).sum();
        return new Result(requests.size(), promptTokens, outputTokens, seconds,
                after.numPreemptions() - before.numPreemptions(), after.meanBatchSince(before), after.numBlocks(),
                after.blockSize(),
                after.computedPromptTokens() - before.computedPromptTokens(),
                kvSince(before.kvCache(), after.kvCache(), peakUsed, peakShared), decodeSteps.largest(),
                profile ? profiles.report() : "");
    }

    /** The KV figures between two snapshots, with the peaks the caller polled in between. */
    static KvCacheStats kvSince(KvCacheStats before, KvCacheStats after, int peakUsedBlocks, int peakSharedBlocks) {
        return new KvCacheStats(after.prefixCachingEnabled(), after.numCachedBlocks(), peakUsedBlocks,
                after.sampledUsedSlots() - before.sampledUsedSlots(),
                after.sampledAllocatedSlots() - before.sampledAllocatedSlots(),
                after.queriedTokens() - before.queriedTokens(), after.hitTokens() - before.hitTokens(),
                after.sharedBlocks(), peakSharedBlocks, after.sampledSharedBlocks() - before.sampledSharedBlocks(),
                after.sampledAllocatedBlocks() - before.sampledAllocatedBlocks());
    }
}
