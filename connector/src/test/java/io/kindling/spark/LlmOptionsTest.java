package io.kindling.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.BatchLimits;
import io.kindling.core.EngineConfig;
import io.kindling.runtime.EngineKey;
import io.kindling.sampling.EarlyStopping;
import io.kindling.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LlmOptionsTest {

    static LlmOptions resolve(Map<String, String> session, Map<String, String> call) {
        return LlmOptions.resolve(session::get, call, LlmOptions.OnError.FAIL);
    }

    static String failure(Map<String, String> session, Map<String, String> call) {
        return assertThrows(InvalidLlmOptionException.class, () -> resolve(session, call)).getMessage();
    }

    @Test
    void defaultsFromTheEngineAndTheExecutorCores() {
        LlmOptions o = resolve(Map.of("spark.kindling.model", "/models/m", "spark.executor.cores", "6"), Map.of());
        assertEquals(new EngineKey("/models/m", EngineConfig.builder(null).device("auto")
                .maxNumSeqs(EngineConfig.DEFAULT_MAX_NUM_SEQS)
                .maxNumBatchedTokens(EngineConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS)
                .blockSize(EngineConfig.DEFAULT_BLOCK_SIZE).kvCacheMemoryBytes(EngineConfig.DEFAULT_KV_CACHE_MEMORY)
                .numThreads(6).gpuMemoryUtilization(0.9).enablePrefixCaching(true).build()), o.engine());
        assertEquals(BatchLimits.AUTO, o.maxInFlight()); // twice the engine's resolved max_num_seqs, on the executor
        assertEquals(LlmOptions.OnError.FAIL, o.onError());
        assertEquals("", o.sampling().describe());
        assertEquals(0, o.configuredSeed());
    }

    @Test
    void callOptionsOverrideTheSessionInEitherSpelling() {
        LlmOptions o = resolve(Map.of("spark.kindling.model", "hdfs://nn/models/m", "spark.kindling.maxTokens", "64",
                        "spark.kindling.temperature", "0.7", "spark.kindling.kvCacheMemory", "512m"),
                Map.of("max_tokens", "8", "topP", "0.5", "seed", "42", "stop", "\\n,.", "maxInFlight", "3",
                        "on_error", "null", "device", "cuda"));
        assertEquals("hdfs://nn/models/m", o.engine().model());
        assertEquals("cuda", o.engine().engine().device());
        assertEquals(512L << 20, o.engine().engine().kvCacheMemoryBytes());
        assertEquals(3, o.maxInFlight());
        assertEquals(LlmOptions.OnError.NULL, o.onError());
        assertEquals(42, o.configuredSeed());
        SamplingParams p = o.sampling().applyTo(SamplingParams.builder().maxTokens(16).temperature(1).build());
        assertEquals(8, p.maxTokens());
        assertEquals(0.7, p.temperature());
        assertEquals(0.5, p.topP());
        assertEquals(List.of("\\n", "."), p.stop());
        assertEquals("maxTokens=8, temperature=0.7, topP=0.5, seed=42, stop=[\\n, .]", o.sampling().describe());
    }

    @Test
    void aRelativeModelPathIsMadeAbsolute() {
        LlmOptions o = resolve(Map.of(), Map.of("model", "../models/m"));
        assertEquals(Path.of("../models/m").toAbsolutePath().normalize().toString(), o.engine().model());
    }

    @Test
    void badValuesAreNamedAsGiven() {
        Map<String, String> model = Map.of("spark.kindling.model", "/m");
        assertEquals("llm_generate: option 'max_tokens' must be at least 1, got 0",
                failure(model, Map.of("max_tokens", "0")));
        assertEquals("llm_generate: option 'spark.kindling.temperature' must be >= 0, got -1.0",
                failure(Map.of("spark.kindling.model", "/m", "spark.kindling.temperature", "-1"), Map.of()));
        assertEquals("llm_generate: option 'minTokens' must be between 0 and max_tokens (4), got 5",
                failure(model, Map.of("minTokens", "5", "maxTokens", "4")));
        assertEquals("llm_generate: option 'kvCacheMemory' must be a size such as 512m or 2g, got 'lots'",
                failure(model, Map.of("kvCacheMemory", "lots")));
        assertEquals("llm_generate: option 'device' must be auto, cpu, cuda (the task's GPU), cuda:N or cuda:N,M,..., got 'tpu'",
                failure(model, Map.of("device", "tpu")));
        assertEquals("llm_generate: option 'gpuMemoryUtilization' must be in (0, 1], got '1.5'",
                failure(model, Map.of("gpuMemoryUtilization", "1.5")));
        assertEquals("llm_generate: option 'ignoreEos' must be true or false, got 'yes'",
                failure(model, Map.of("ignoreEos", "yes")));
        Map<String, String> twice = new LinkedHashMap<>();
        twice.put("max_tokens", "4");
        twice.put("maxTokens", "5");
        assertEquals("llm_generate: option 'maxTokens' is given twice ('max_tokens' and 'maxTokens')",
                failure(model, twice));
        String unknown = failure(model, Map.of("max_tokenz", "4"));
        assertTrue(unknown.startsWith("llm_generate: unknown option 'max_tokenz' (known: model, device, maxTokens,"),
                unknown);
        String noModel = failure(Map.of(), Map.of());
        assertTrue(noModel.startsWith("llm_generate: no model: set spark.kindling.model"), noModel);
    }

    @Test
    void engineAndCallOptionsAreCheckedAgainstTheCataloguesRange() {
        Map<String, String> model = Map.of("spark.kindling.model", "/m");
        assertEquals("llm_generate: option 'max_num_seqs' must be positive, got '0'",
                failure(model, Map.of("max_num_seqs", "0")));
        assertEquals("llm_generate: option 'kvCacheMemory' must be a size > 0, got '0'",
                failure(model, Map.of("kvCacheMemory", "0")));
        assertEquals("llm_generate: option 'maxInFlight' must be positive, got '-2'",
                failure(model, Map.of("maxInFlight", "-2")));
        assertEquals("llm_generate: option 'onError' must be fail or null, got 'skip'",
                failure(model, Map.of("onError", "skip")));
        assertEquals("llm_generate: option 'blockSize' must be an integer, got '1e3'",
                failure(model, Map.of("blockSize", "1e3")));
    }

    @Test
    void stopTokenIdsAreCommaSeparatedIntegers() {
        Map<String, String> model = Map.of("spark.kindling.model", "/m");
        LlmOptions o = resolve(model, Map.of("stop_token_ids", "7, 9"));
        assertEquals(List.of(7, 9), o.samplingParams(SamplingParams.greedy(4)).stopTokenIds());
        assertEquals("stopTokenIds=[7, 9]", o.sampling().describe());
        assertEquals("llm_generate: option 'stopTokenIds' must be integers separated by commas, got '7;9'",
                failure(model, Map.of("stopTokenIds", "7;9")));
    }

    @Test
    void beamSearchReturnsEveryBeamUnlessNIsSet() {
        // The model's defaults sample (temperature 0.7): beam search ignores them, so they do not conflict.
        SamplingParams defaults = SamplingParams.builder().maxTokens(16).temperature(0.7).topP(0.9).build();
        LlmOptions beams = resolve(Map.of("spark.kindling.model", "/m", "spark.kindling.lengthPenalty", "0.5"),
                Map.of("beam_width", "3", "early_stopping", "Never"));
        SamplingParams p = beams.samplingParams(defaults);
        assertEquals(3, p.beamWidth());
        assertEquals(3, p.n());
        assertEquals(0.5, p.lengthPenalty());
        assertEquals(EarlyStopping.NEVER, p.earlyStopping());
        assertEquals("beamWidth=3, lengthPenalty=0.5, earlyStopping=never", beams.describeSampling());

        LlmOptions best = resolve(Map.of("spark.kindling.model", "/m"), Map.of("beamWidth", "3", "n", "1",
                "maxTokens", "4"));
        assertEquals(1, best.samplingParams(defaults).n());
        assertEquals("maxTokens=4, n=1, beamWidth=3", best.describeSampling());

        SamplingParams samples = resolve(Map.of("spark.kindling.model", "/m"), Map.of("n", "2"))
                .samplingParams(defaults);
        assertEquals(2, samples.n());
        assertEquals(0, samples.beamWidth());
        assertEquals(0.7, samples.temperature());
    }

    @Test
    void optionsOneSearchWouldIgnoreFailNamingThem() {
        Map<String, String> model = Map.of("spark.kindling.model", "/m");
        assertEquals("llm_generate: option 'temperature' does not apply to beam search (beamWidth > 0), which keeps "
                        + "the likeliest beams rather than sampling: set it to 0, got '0.5'",
                failure(model, Map.of("beam_width", "3", "temperature", "0.5")));
        assertEquals("llm_generate: option 'spark.kindling.topP' does not apply to beam search (beamWidth > 0), "
                        + "which keeps the likeliest beams rather than sampling: set it to 1, got '0.9'",
                failure(Map.of("spark.kindling.model", "/m", "spark.kindling.topP", "0.9"), Map.of("beamWidth", "2")));
        assertEquals("llm_generate: option 'length_penalty' applies to beam search only, which needs beamWidth > 0, "
                + "got '2'", failure(model, Map.of("length_penalty", "2", "n", "2")));
        assertEquals("llm_generate: option 'earlyStopping' applies to beam search only, which needs beamWidth > 0, "
                + "got 'true'", failure(model, Map.of("earlyStopping", "true", "beamWidth", "0")));
        // Zero temperature, the neutral top-k values and a seed are fine with beams.
        resolve(model, Map.of("beamWidth", "2", "temperature", "0", "topK", "-1", "seed", "3"));
    }

    @Test
    void beamSearchRulesOfTheEngineFailAtAnalysis() {
        Map<String, String> model = Map.of("spark.kindling.model", "/m");
        assertEquals("llm_generate: option 'n' beam search returns at most beam_width (2) beams, got 3",
                failure(model, Map.of("beamWidth", "2", "n", "3")));
        assertEquals("llm_generate: option 'stop' is not supported with beam search",
                failure(model, Map.of("beamWidth", "2", "stop", ".")));
        assertEquals("llm_generate: option 'n' must be at least 1, got 0", failure(model, Map.of("n", "0")));
        assertEquals("llm_generate: option 'beam_width' must be >= 0 (0: no beam search), got -1",
                failure(model, Map.of("beam_width", "-1")));
        assertEquals("llm_generate: option 'earlyStopping' must be true, false or never, got 'sometimes'",
                failure(model, Map.of("earlyStopping", "sometimes", "beamWidth", "2")));
    }

    @Test
    void minTokensAloneWaitsForTheModelsMaxTokens() {
        LlmOptions o = resolve(Map.of("spark.kindling.model", "/m"), Map.of("minTokens", "20"));
        assertEquals(20, o.sampling().minTokens());
        assertNull(o.sampling().maxTokens());
    }
}
