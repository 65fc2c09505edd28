package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.KvCacheStats;
import io.kindling.core.Request;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchCommandTest {

    private static BenchCommand parse(String... args) {
        BenchCommand bench = new BenchCommand();
        new CommandLine(bench).parseArgs(args);
        return bench;
    }

    @Test
    void fixedDatasetGivesEveryRequestTheSameShape() {
        BenchCommand bench = parse("--model", "m", "--input-len", "5", "--output-len", "3");
        List<Request> requests = BenchCommand.requests("bench-", bench.shapes(4, new Random(0)), 0, 50, new Random(0));
        assertEquals(4, requests.size());
        for (int i = 0; i < 4; i++) {
            Request r = requests.get(i);
            assertEquals("bench-" + i, r.requestId());
            assertEquals(5, r.promptTokenIds().length);
            assertTrue(Arrays.stream(r.promptTokenIds()).allMatch(t -> t >= 0 && t < 50));
            assertEquals(3, r.params().maxTokens());
            assertTrue(r.params().ignoreEos());
            assertEquals(1.0, r.params().temperature());
        }
    }

    @Test
    void wideMixDrawsSeededLengthsFrom16To1024() {
        BenchCommand bench = parse("--model", "m", "--dataset", "wide");
        List<BenchCommand.Shape> shapes = bench.shapes(2000, new Random(42));
        assertEquals(shapes, bench.shapes(2000, new Random(42)));
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (BenchCommand.Shape s : shapes) {
            min = Math.min(min, Math.min(s.inputLen(), s.outputLen()));
            max = Math.max(max, Math.max(s.inputLen(), s.outputLen()));
        }
        assertEquals(16, min);
        assertEquals(1024, max);

        List<Request> a = BenchCommand.requests("b", shapes.subList(0, 3), 0, 128256, new Random(7));
        List<Request> b = BenchCommand.requests("b", shapes.subList(0, 3), 0, 128256, new Random(7));
        assertArrayEquals(a.get(2).promptTokenIds(), b.get(2).promptTokenIds());
        assertEquals(shapes.get(2).inputLen(), a.get(2).promptTokenIds().length);
    }

    @Test
    void theWideRangeCanBeNarrowedToFitASmallContext() {
        BenchCommand bench = parse("--model", "m", "--dataset", "wide", "--wide-min", "16", "--wide-max", "256");
        List<BenchCommand.Shape> shapes = bench.shapes(500, new Random(1));
        assertTrue(shapes.stream().allMatch(s -> s.inputLen() >= 16 && s.inputLen() <= 256
                && s.outputLen() >= 16 && s.outputLen() <= 256));
        assertTrue(shapes.stream().anyMatch(s -> s.inputLen() == 256));
    }

    @Test
    void aSharedPrefixStartsEveryPromptBeforeItsOwnTokens() {
        BenchCommand bench = parse("--model", "m", "--input-len", "5", "--shared-prefix-len", "40");
        List<Request> requests = BenchCommand.requests("b", bench.shapes(3, new Random(0)), 40, 1000, new Random(3));
        int[] prefix = Arrays.copyOf(requests.get(0).promptTokenIds(), 40);
        for (Request r : requests) {
            assertEquals(45, r.promptTokenIds().length);
            assertArrayEquals(prefix, Arrays.copyOf(r.promptTokenIds(), 40));
        }
        assertTrue(!Arrays.equals(requests.get(0).promptTokenIds(), requests.get(1).promptTokenIds()));
    }

    @Test
    void prefixCachingIsOnUnlessTurnedOff() {
        assertTrue(parse("--model", "m").engineOptions.config().enablePrefixCaching());
        assertFalse(parse("--model", "m", "--no-prefix-caching").engineOptions.config().enablePrefixCaching());
        assertFalse(parse("--model", "m", "--no-enable-prefix-caching").engineOptions.config().enablePrefixCaching());
        assertTrue(parse("--model", "m", "--enable-prefix-caching").engineOptions.config().enablePrefixCaching());
    }

    @Test
    void tensorParallelSizeIsOneUnlessSet() {
        assertEquals(1, parse("--model", "m").engineOptions.config().tensorParallelSize());
        assertEquals(2, parse("--model", "m", "--tensor-parallel-size", "2").engineOptions.config()
                .tensorParallelSize());
    }

    @Test
    void reportsLikeVllmBenchThroughputWithTheKvFigures() {
        KvCacheStats kv = new KvCacheStats(true, 40, 600, 9_700, 10_000, 8192, 4096, 0, 120, 300, 900);
        var result = new BenchCommand.Result(64, 8192, 8192, 16.0, 3, 61.5, 2048, 16, 4200, kv,
                new DecodeSteps.Median(64, 120, 7.25), "");
        assertEquals("""
                Throughput: 4.00 requests/s, 1024.00 total tokens/s, 512.00 output tokens/s
                Elapsed: 16.00 s for 64 requests (8192 prompt + 8192 output tokens)
                Preemptions: 3
                Mean batch: 61.5 sequences a step
                Prefill: 4200 of 8192 prompt tokens computed (51.27%)
                Prefix cache: on, hit rate 50.00% (4096 of 8192 tokens looked up)
                KV cache: peak 600 of 2048 blocks (29.3%), 16 tokens a block
                KV waste: 3.00% of allocated token slots empty, averaged over steps
                KV sharing: peak 120 blocks saved, 25.00% fewer blocks than unshared, averaged over steps
                Decode step: 7.25 ms median at batch 64 (120 steps)
                """, result.report());
    }

    @Test
    void decodeStepIsTheMedianOfTheLargestBatchTimedOftenEnough() {
        DecodeSteps steps = new DecodeSteps();
        for (long ms : new long[] {9, 7, 8, 30, 6}) {
            steps.record(256, ms * 1_000_000);
        }
        steps.record(300, 50_000_000); // too rare for a median
        for (int i = 0; i < 6; i++) {
            steps.record(12, 1_000_000);
        }
        assertEquals(new DecodeSteps.Median(256, 5, 8.0), steps.largest());
        assertEquals("Decode step: no batch decoded alone often enough to time", new DecodeSteps().largest().report());
    }

    @Test
    void theRunsFiguresLeaveOutWhatCameBefore() {
        KvCacheStats before = new KvCacheStats(true, 5, 50, 100, 200, 30, 10, 2, 9, 20, 40);
        KvCacheStats after = new KvCacheStats(true, 7, 60, 1100, 1200, 130, 60, 0, 9, 70, 140);
        assertEquals(new KvCacheStats(true, 7, 33, 1000, 1000, 100, 50, 0, 4, 50, 100),
                BenchCommand.kvSince(before, after, 33, 4));
    }
}
