package io.kindling.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.kindling.backend.Draw;
import io.kindling.backend.SampleResult;
import io.kindling.backend.cpu.Sampler;
import io.kindling.sampling.SamplingParams;
import io.kindling.sampling.SamplingState;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CpuBatchSamplerTest {

    private static final int VOCAB = 300;

    @Test
    void drawsSharingARowDoNotSeeEachOthersMasks() {
        float[] values = new float[2 * VOCAB];
        values[7] = 5f; // row 0's argmax
        values[VOCAB + 9] = 5f;
        HostLogits logits = new HostLogits(values, 2, VOCAB);
        SamplingParams masksSeven = SamplingParams.builder().maxTokens(4).minTokens(1).stopTokenIds(List.of(7)).build();
        SamplingState masking = new SamplingState(masksSeven, new int[] {1}, new int[0], 0);
        SamplingState plain = new SamplingState(SamplingParams.greedy(4), new int[] {1}, new int[0], 0);

        try (CpuThreads threads = new CpuThreads(2)) {
            SampleResult[] results = new CpuBatchSampler(threads).sample(logits,
                    List.of(new Draw(0, masking), new Draw(0, plain), new Draw(1, plain)));
            assertNotEquals(7, results[0].tokenId(), "min_tokens masks stop token 7");
            assertEquals(7, results[1].tokenId(), "the mask of the draw before must not leak");
            assertEquals(9, results[2].tokenId());
        }
    }

    @Test
    void parallelDrawsEqualTheSamplerRunOneByOne() {
        Random random = new Random(3);
        int rows = 5;
        float[] values = new float[rows * VOCAB];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * 2;
        }
        HostLogits logits = new HostLogits(values, rows, VOCAB);
        List<Draw> draws = new ArrayList<>();
        List<Integer> expected = new ArrayList<>();
        Sampler sampler = new Sampler();
        for (int i = 0; i < 24; i++) {
            SamplingParams params = SamplingParams.builder().temperature(0.8).topK(i % 3 == 0 ? 20 : 0)
                    .topP(i % 2 == 0 ? 0.9 : 1).seed(i).build();
            int row = i % rows;
            draws.add(new Draw(row, new SamplingState(params, new int[] {1}, new int[0], 0)));
            expected.add(sampler.sample(logits.row(row), new SamplingState(params, new int[] {1}, new int[0], 0))
                    .tokenId());
        }
        try (CpuThreads threads = new CpuThreads(3)) {
            SampleResult[] results = new CpuBatchSampler(threads).sample(logits, draws);
            for (int i = 0; i < draws.size(); i++) {
                assertEquals(expected.get(i), results[i].tokenId(), "draw " + i);
            }
        }
    }
}
