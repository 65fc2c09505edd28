package io.kindling.flink;

import io.kindling.core.EngineService;
import io.kindling.core.Request;
import io.kindling.runtime.BundledModel;
import io.kindling.runtime.RowSeeds;
import io.kindling.sampling.SamplingParams;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/** The bundled model as a kindling model's options, the words of the README's job, and the engine's own outputs. */
public final class FlinkModels {

    /** Twelve words of examples/data/words.jsonl: the prompt is the word and a colon. */
    public static final List<String> WORDS = List.of("above-cited", "acrimoniously", "adjoining", "angelic Hymn",
            "anserated", "anthropography", "apple", "bewilder", "candle", "dusk", "ember", "kindling");

    public static final int MAX_TOKENS = 8;

    private FlinkModels() {
    }

    /** Small engine limits, one thread: the CI has two cores. */
    static String engineOptions() {
        return "'model' = '" + BundledModel.DIR + "', 'device' = 'cpu', 'threads' = '1', 'max-num-seqs' = '16', "
                + "'kv-cache-memory' = '16m', 'max-tokens' = '" + MAX_TOKENS + "'";
    }

    static Map<String, String> engineOptionMap() {
        return Map.of("model", BundledModel.DIR.toString(), "device", "cpu", "threads", "1", "max-num-seqs", "16",
                "kv-cache-memory", "16m", "max-tokens", String.valueOf(MAX_TOKENS));
    }

    /**
     * What {@code bin/kindling generate} writes for each word with these settings: the engine alone, the model's
     * sampling defaults, the row's seed as Spark and Flink derive it.
     */
    public static Map<String, String> engineOutputs(double temperature, long seed) throws Exception {
        Map<String, String> outputs = new LinkedHashMap<>();
        try (EngineService engine = EngineService.start(BundledModel.key().config(BundledModel.DIR))) {
            SamplingParams params = engine.defaultSamplingParams().toBuilder().maxTokens(MAX_TOKENS)
                    .temperature(temperature).build();
            for (int i : IntStream.range(0, WORDS.size()).toArray()) {
                String prompt = WORDS.get(i) + ":";
                Request r = new Request("expected-" + i, engine.tokenizer().encode(prompt),
                        params.toBuilder().seed(RowSeeds.of(seed, prompt, null)).build());
                outputs.put(WORDS.get(i), engine.submit(r).get().completion().text());
            }
        }
        return outputs;
    }

    /** The engines still running once the jobs' tasks have closed (they close as the job ends, not before). */
    static List<EngineService> enginesAfterJobs() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!TaskManagerEngines.running().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return TaskManagerEngines.running();
    }
}
