package io.kindling.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class EngineServiceTest {

    static EngineConfig config() {
        return EngineConfig.defaults(BundledModelTest.MODEL).withDevice("cpu").withKvCacheMemoryBytes(64L << 20);
    }

    static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
    }

    @Test
    void concurrentSubmittersGetWhatTheEngineGivesDirectly() throws Exception {
        String[] words = {"apple:", "ocean:", "to run:", "philosophy:", "lighthouse:", "river:", "stone:", "music:"};
        List<int[]> direct = new ArrayList<>();
        try (LlmEngine engine = LlmEngine.open(config())) {
            for (String w : words) {
                direct.add(engine.generate(List.of(new Request(w, engine.tokenizer().encode(w), greedy(20))))
                        .get(0).completion().tokenIds());
            }
        }
        ExecutorService tasks = Executors.newFixedThreadPool(4);
        try (EngineService service = EngineService.start(config())) {
            List<Future<RequestOutput>> results = new ArrayList<>();
            for (String w : words) {
                results.add(tasks.submit(() ->
                        service.submit(new Request(w, service.tokenizer().encode(w), greedy(20))).get()));
            }
            for (int i = 0; i < words.length; i++) {
                assertArrayEquals(direct.get(i), results.get(i).get().completion().tokenIds(), words[i]);
            }
            RequestOutput refused = service.submit(new Request("empty", new int[0], greedy(4))).get();
            assertEquals(FinishReason.ERROR, refused.completion().finishReason());
            assertTrue(refused.error().orElseThrow().contains("empty"));
        } finally {
            tasks.shutdown();
        }
    }

    @Test
    void abortFreesTheRequestAndCloseCancelsTheRest() throws Exception {
        EngineService service = EngineService.start(config());
        int[] prompt = service.tokenizer().encode("apple:");
        CompletableFuture<RequestOutput> aborted = service.submit(new Request("long", prompt, greedy(400)));
        service.abort("long");
        assertThrows(CancellationException.class, aborted::join);
        RequestOutput after = service.submit(new Request("next", prompt, greedy(3))).get();
        assertEquals(3, after.completion().tokenIds().length);
        assertEquals(service.stats().numBlocks(), service.stats().numFreeBlocks(), "the aborted request's blocks");
        CompletableFuture<RequestOutput> outstanding = service.submit(new Request("pending", prompt, greedy(400)));
        service.close();
        assertThrows(CancellationException.class, outstanding::join);
        assertThrows(CancellationException.class,
                () -> service.submit(new Request("late", prompt, greedy(1))).join());
    }
}
