package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        List<Request> requests = BenchCommand.requests("bench-", bench.shapes(4, new Random(0)), 50, new Random(0));
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

        List<Request> a = BenchCommand.requests("b", shapes.subList(0, 3), 128256, new Random(7));
        List<Request> b = BenchCommand.requests("b", shapes.subList(0, 3), 128256, new Random(7));
        assertArrayEquals(a.get(2).promptTokenIds(), b.get(2).promptTokenIds());
        assertEquals(shapes.get(2).inputLen(), a.get(2).promptTokenIds().length);
    }

    @Test
    void reportsLikeVllmBenchThroughput() {
        var result = new BenchCommand.Result(64, 8192, 8192, 16.0, 3, 600, 2048, 16);
        assertEquals("""
                Throughput: 4.00 requests/s, 1024.00 total tokens/s, 512.00 output tokens/s
                Elapsed: 16.00 s for 64 requests (8192 prompt + 8192 output tokens)
                Preemptions: 3
                KV cache: peak 600 of 2048 blocks (29.3%), 16 tokens a block
                """, result.report());
    }
}
