package io.kindling.core;

import io.kindling.sampling.SamplingParams;
import io.kindling.structured.StructuredOutput;
import io.kindling.testing.AsyncSchedulingContract;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link AsyncSchedulingContract} on the CPU backend and the bundled model, with its tokenizer: sequences that stop
 * at different steps (max_tokens, stop token ids, stop strings), penalties, n > 1, beam search and structured
 * output. Preemption recomputes the same bits here, so logprobs must be equal under it too.
 */
class AsyncSchedulingTest extends AsyncSchedulingContract {

    static final Path MODEL = BundledModelTest.MODEL;

    @Override
    protected EngineConfig config() {
        return staticConfig();
    }

    @Override
    protected LlmEngine open(EngineConfig config) {
        return LlmEngine.open(config);
    }

    @Override
    protected EngineConfig preempting(long kvCacheBytesPerBlock) {
        return config().withKvCacheMemoryBytes(12 * kvCacheBytesPerBlock).withMaxNumBatchedTokens(64);
    }

    @Override
    protected List<Request> requests() {
        return requestList();
    }

    private static EngineConfig staticConfig() {
        return EngineConfig.defaults(MODEL).withDevice("cpu").withNumThreads(2).withKvCacheMemoryBytes(16L << 20);
    }

    private static List<Request> requestList() {
        List<Request> requests = new ArrayList<>();
        String[] prompts = {"The cat sat on the", "A word means", "Define: river", "Once upon a time", "Numbers:"};
        int[] stopToken = stopTokenOf(prompts[1]);
        try (LlmEngine engine = LlmEngine.open(staticConfig())) {
            for (int i = 0; i < 4; i++) {
                requests.add(request(engine, "greedy" + i, prompts[i % prompts.length], SamplingParams.builder()
                        .temperature(0).maxTokens(6 + 9 * i).ignoreEos(i % 2 == 0).logprobs(2)));
            }
            for (int i = 0; i < 3; i++) {
                requests.add(request(engine, "seeded" + i, prompts[(i + 2) % prompts.length], SamplingParams.builder()
                        .temperature(0.9).topP(0.9).seed(100 + i).maxTokens(30).presencePenalty(0.5)
                        .frequencyPenalty(0.3).repetitionPenalty(1.1).logprobs(1)));
            }
            requests.add(request(engine, "stopToken", prompts[1], SamplingParams.builder().temperature(0)
                    .maxTokens(40).ignoreEos(true).stopTokenIds(List.of(stopToken[0]))));
            for (int i = 0; i < 2; i++) {
                requests.add(request(engine, "stopString" + i, prompts[i + 3], SamplingParams.builder()
                        .temperature(0.7).seed(7 + i).maxTokens(40).stop(List.of(i == 0 ? "e" : " "))));
            }
            requests.add(request(engine, "n3", prompts[0], SamplingParams.builder().temperature(1.0).seed(5).n(3)
                    .maxTokens(20).logprobs(1)));
            requests.add(request(engine, "beam", prompts[2], SamplingParams.builder().beamWidth(3).n(2)
                    .maxTokens(12)));
            requests.add(request(engine, "choice", prompts[3], SamplingParams.builder().temperature(0.8).seed(3)
                    .maxTokens(10).structuredOutput(new StructuredOutput.Choice(List.of("yes", "no", "maybe")))));
            requests.add(request(engine, "regex", prompts[4], SamplingParams.builder().temperature(0.8).seed(4)
                    .maxTokens(16).structuredOutput(new StructuredOutput.Regex("[a-z]+ [0-9]{2}"))));
        }
        return requests;
    }

    /** The greedy continuation's fourth token, to stop at. */
    private static int[] stopTokenOf(String prompt) {
        try (LlmEngine engine = LlmEngine.open(staticConfig())) {
            int[] ids = engine.tokenizer().encode(prompt);
            RequestOutput out = engine.generate(List.of(new Request("probe", ids, SamplingParams.builder()
                    .temperature(0).maxTokens(8).ignoreEos(true).build()))).get(0);
            return new int[] {out.completion().tokenIds()[3]};
        }
    }

    private static Request request(LlmEngine engine, String id, String prompt, SamplingParams.Builder params) {
        return new Request(id, engine.tokenizer().encode(prompt), params.build());
    }
}
