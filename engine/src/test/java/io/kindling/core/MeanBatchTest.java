package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.sampling.SamplingParams;
import io.kindling.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine counts the sequences each step runs, for the mean batch that benchmarks and the Spark job report. */
class MeanBatchTest {

    private static final EngineConfig CONFIG = EngineConfig.defaults(Fixtures.checkpoint("llama3-tiny"))
            .withDevice("cpu").withKvCacheMemoryBytes(16L << 20);

    @Test
    void fourRequestsThatPrefillTogetherRunFourSequencesEveryStep() {
        SamplingParams params = SamplingParams.builder().temperature(0.0).maxTokens(3).ignoreEos(true).build();
        try (LlmEngine engine = LlmEngine.open(CONFIG)) {
            EngineStats start = engine.stats();
            List<Request> four = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                four.add(new Request("r" + i, new int[] {5 + i, 17, 29}, params));
            }
            engine.generate(four);
            EngineStats afterFour = engine.stats();
            // one step prefills all four and draws their first tokens, two more draw the second and third
            assertEquals(3, afterFour.numSteps() - start.numSteps());
            assertEquals(4.0, afterFour.meanBatchSince(start));

            engine.generate(List.of(new Request("alone", new int[] {7, 8}, params)));
            assertEquals(1.0, engine.stats().meanBatchSince(afterFour));
            assertEquals(15.0 / 6, engine.stats().meanBatchSince(start));
        }
    }
}
