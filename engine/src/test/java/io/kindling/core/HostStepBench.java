package io.kindling.core;

import io.kindling.backend.Backend;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.BatchSampler;
import io.kindling.backend.BatchValidator;
import io.kindling.backend.DeferredTokens;
import io.kindling.backend.Draw;
import io.kindling.backend.Logits;
import io.kindling.backend.SampleResult;
import io.kindling.model.Checkpoint;
import io.kindling.sampling.DrawParams;
import io.kindling.sampling.LogitAdjustments;
import io.kindling.sampling.SamplingParams;
import io.kindling.tokenizer.Tokenizer;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SplittableRandom;

/**
 * The engine's host cost per decode step, without a model: 1024 running sequences of ~600 tokens (block size 16) on
 * the Llama-3.2-1B shape, stepped by {@link LlmEngine#step} over a stub backend whose forward pass only validates
 * the batch and whose sampler hands back fixed tokens, with the bundled model's tokenizer detokenizing them. The stub
 * takes deferred input tokens as the GPU and CPU backends do, so asynchronous scheduling is on unless
 * {@code -Dkindling.asyncScheduling=false}. Prints
 * microseconds per phase ({@link StepTimes}) and the bytes the engine's thread allocated, per step.
 *
 * <p>By default every sequence decodes through the measured steps in lockstep, so the batch never changes shape.
 * With {@code --churn} the output lengths vary ({@value #CHURN_MIN_OUTPUT} to {@value #CHURN_MAX_OUTPUT} tokens)
 * over a backlog of waiting requests: some sequences finish every step and waiting ones are admitted in their place,
 * prefilling beside the decodes, as in a real run.
 *
 * <p>Run: {@code bash benchmarks/host_step_bench.sh [--churn]} (args: sequences, prompt tokens, measured steps).
 */
public final class HostStepBench {

    private static final Path SHAPE = Path.of("benchmarks/shapes/llama-3.2-1b");
    private static final Path TOKENIZER = Path.of("examples/models/kindling-define-6m");
    /**
     * Churn's output lengths, 160 tokens on average: 1024 sequences then finish about 6.4 a step, and their
     * replacements' ~600-token prompts fit the 8192-token budget beside the decodes, so the running count holds.
     */
    private static final int CHURN_MIN_OUTPUT = 32;
    private static final int CHURN_MAX_OUTPUT = 288;

    public static void main(String[] args) {
        boolean churn = Arrays.asList(args).contains("--churn");
        String[] sizes = Arrays.stream(args).filter(a -> !a.equals("--churn")).toArray(String[]::new);
        int numSeqs = sizes.length > 0 ? Integer.parseInt(sizes[0]) : 1024;
        int promptLen = sizes.length > 1 ? Integer.parseInt(sizes[1]) : 600;
        int steps = sizes.length > 2 ? Integer.parseInt(sizes[2]) : 400;
        // with churn, the first sequences all finish during the warm-up
        int warmup = Math.max(200, steps / 2) + (churn ? CHURN_MAX_OUTPUT : 0);
        int blockSize = 16;
        // the first sequences decode while the last ones prefill, 8192 tokens a step
        int maxTokens = churn ? CHURN_MAX_OUTPUT
                : warmup + steps + (int) ((long) numSeqs * (promptLen + 16) / 8192) + 16;
        // with churn, twice the requests expected to finish, so the backlog outlasts the run
        int numRequests = churn
                ? numSeqs + 2 * (warmup + steps) * numSeqs * 2 / (CHURN_MIN_OUTPUT + CHURN_MAX_OUTPUT) : numSeqs;
        long numBlocks = (long) numSeqs * ((promptLen + maxTokens) / blockSize + 2);
        EngineConfig config = EngineConfig.builder(SHAPE).maxNumSeqs(numSeqs).maxNumBatchedTokens(8192)
                .blockSize(blockSize).kvCacheMemoryBytes(numBlocks * StubBackend.BYTES_PER_BLOCK).build();
        Checkpoint checkpoint = Checkpoint.withRandomWeights(SHAPE, 0);
        Tokenizer tokenizer = Tokenizer.forModel(TOKENIZER);
        int vocab = 4096; // the tokenizer's; the shape's is larger
        try (LlmEngine engine = new LlmEngine(checkpoint, tokenizer, new StubBackend(checkpoint.config().vocabSize(),
                vocab), config)) {
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < numRequests; i++) {
                int[] prompt = random.ints(promptLen + random.nextInt(-16, 17), 3, vocab).toArray();
                int outputLen = churn ? random.nextInt(CHURN_MIN_OUTPUT, CHURN_MAX_OUTPUT + 1) : maxTokens;
                engine.addRequest(new Request("r" + i, prompt, SamplingParams.builder().maxTokens(outputLen)
                        .ignoreEos(true).temperature(0).build()));
            }
            while (!churn && (engine.stats().numWaiting() > 0 || engine.lastStepTimes() == StepTimes.NONE)) {
                engine.step(); // prefill
            }
            run(engine, warmup, churn);
            EngineStats before = engine.stats();
            Totals t = run(engine, steps, churn);
            EngineStats after = engine.stats();
            if (churn && after.numWaiting() == 0) {
                throw new IllegalStateException("the backlog of waiting requests ran out during the measured steps");
            }
            System.out.printf("host step, %d running sequences of ~%d tokens, block size %d, %d steps (after %d "
                    + "warm-up)%s:%n", numSeqs, promptLen, blockSize, steps, warmup, churn ? String.format(
                    ", churn: %.1f requests finished per step, %.0f sequences a batch", (double) t.finished / steps,
                    after.meanBatchSince(before)) : "");
            System.out.printf("  schedule     %8.1f us%n", t.schedule / 1e3 / steps);
            System.out.printf("  forward      %8.1f us  (prepare inputs + validate; the stub queues nothing)%n",
                    t.forward / 1e3 / steps);
            System.out.printf("  sample       %8.1f us  (stub sampler)%n", t.sample / 1e3 / steps);
            System.out.printf("  postprocess  %8.1f us%n", t.postprocess / 1e3 / steps);
            System.out.printf("  total        %8.1f us, %d bytes allocated per step%n",
                    (t.schedule + t.forward + t.sample + t.postprocess) / 1e3 / steps, t.bytes / steps);
        }
    }

    private record Totals(long schedule, long forward, long sample, long postprocess, long bytes, long finished) {
    }

    /** Runs {@code steps} steps; only with {@code churn} may requests finish in them. */
    private static Totals run(LlmEngine engine, int steps, boolean churn) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        long schedule = 0;
        long forward = 0;
        long sample = 0;
        long postprocess = 0;
        long finished = 0;
        long bytes = 0;
        for (int i = 0; i < steps; i++) {
            // the engine's step alone: reading its times below builds a record, the bench's and not the engine's
            long bytes0 = threads.getThreadAllocatedBytes(thread);
            int n = engine.step().size();
            bytes += threads.getThreadAllocatedBytes(thread) - bytes0;
            if (n > 0 && !churn) {
                throw new IllegalStateException("a sequence finished during the measured steps");
            }
            finished += n;
            StepTimes s = engine.lastStepTimes();
            schedule += s.scheduleNanos();
            forward += s.forwardNanos();
            sample += s.sampleNanos();
            postprocess += s.postprocessNanos();
        }
        return new Totals(schedule, forward, sample, postprocess, bytes, finished);
    }

    /**
     * Validates each batch as a real backend does, resolves each draw's parameters as both samplers do, and samples
     * token {@code 3 + (row * 31 + step) % (vocab - 3)}; keeps the last draws' tokens for the next step's deferred input
     * ids, as the CPU backend does. Its launch mirrors GpuSampler's: each draw resolved by {@link DrawParams#resolve}
     * into arrays that the launch reuses (GpuSampler's pinned parameter buffer), the results written into the
     * engine's array when awaited.
     */
    private static final class StubBackend implements Backend, BatchSampler, DrawParams.Resolved<Void> {

        static final long BYTES_PER_BLOCK = 1024;
        private final int vocabSize;
        private final int tokenVocab;
        private BatchValidator validator;
        private int step;
        private int[] lastTokenIds = new int[0];
        /** What GpuSampler keeps of each draw of the last launch, by draw: the logprobs asked and the mask. */
        private int[] logprobsAsked = new int[0];
        private int[][] masks = new int[0][];
        /** The draw being resolved. */
        private int slot;
        private int launchedDraws;
        /** The last pass's logits rows. */
        private int rows;
        private final Logits logits = new Logits() {
            @Override
            public int numRows() {
                return rows;
            }

            @Override
            public int vocabSize() {
                return vocabSize;
            }

            @Override
            public float[] row(int i) {
                throw new UnsupportedOperationException("the stub has no logits");
            }
        };

        StubBackend(int vocabSize, int tokenVocab) {
            this.vocabSize = vocabSize;
            this.tokenVocab = tokenVocab;
        }

        @Override
        public String device() {
            return "stub";
        }

        @Override
        public long kvCacheBytesPerBlock(int blockSize) {
            return BYTES_PER_BLOCK;
        }

        @Override
        public void allocateKvCache(int numBlocks, int blockSize) {
            validator = new BatchValidator(vocabSize, numBlocks, blockSize);
        }

        @Override
        public void copyBlocks(int[] src, int[] dst) {
        }

        @Override
        public boolean takesDeferredTokens() {
            return true;
        }

        @Override
        public Logits forward(BatchInputs batch, DeferredTokens deferred) {
            deferred.resolve(lastTokenIds, batch.inputIds());
            return forward(batch);
        }

        @Override
        public Logits forward(BatchInputs batch) {
            validator.validate(batch);
            rows = batch.numLogits();
            step++;
            return logits; // one view, refilled by each pass, as CudaBackend's
        }

        @Override
        public SampleResult[] sample(Logits logits, List<Draw> draws) {
            launch(logits, draws);
            SampleResult[] out = new SampleResult[draws.size()];
            awaitLaunched(out);
            return out;
        }

        @Override
        public void launch(Logits logits, List<Draw> draws) {
            int n = draws.size();
            if (lastTokenIds.length < n) {
                lastTokenIds = new int[n];
                logprobsAsked = new int[n];
                masks = new int[n][];
            }
            for (slot = 0; slot < n; slot++) {
                Draw draw = draws.get(slot);
                DrawParams.resolve(draw.state(), vocabSize, this);
                lastTokenIds[slot] = 3 + (draw.row() * 31 + step) % (tokenVocab - 3);
            }
            launchedDraws = n;
        }

        @Override
        public Void accept(float temperature, int topK, double topP, double logMinP, double u, OptionalInt logprobs,
                LogitAdjustments adjustments, Optional<int[]> allowedTokens) {
            logprobsAsked[slot] = logprobs.orElse(-1);
            masks[slot] = allowedTokens.orElse(null);
            return null;
        }

        @Override
        public void awaitLaunched(SampleResult[] out) {
            for (int i = 0; i < launchedDraws; i++) {
                out[i] = SampleResult.of(lastTokenIds[i]);
            }
        }

        @Override
        public BatchSampler sampler() {
            return this;
        }

        @Override
        public void close() {
        }
    }
}
