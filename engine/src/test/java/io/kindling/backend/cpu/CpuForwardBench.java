package io.kindling.backend.cpu;

import io.kindling.model.Architecture;
import io.kindling.model.DType;
import io.kindling.model.ModelConfig;
import io.kindling.model.Rope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;

/**
 * Decode throughput of {@link CpuBackend} for 1 sequence versus a batch, on a random Llama-shaped model.
 * Not a test. Run after {@code mvn -o test-compile}:
 * <pre>java -cp engine/target/classes:engine/target/test-classes io.kindling.backend.CpuForwardBench [threads] [batch]</pre>
 */
public final class CpuForwardBench {

    private static final int PROMPT = 64;
    private static final int DECODE_STEPS = 32;
    private static final int ROUNDS = 3;

    private CpuForwardBench() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        ModelConfig config = new ModelConfig(Architecture.LLAMA, 32000, 512, 1536, 8, 8, 4, 64, 1e-5,
                Rope.standard(500000), 2048, true, false, false, OptionalInt.empty(), DType.F32, OptionalInt.of(1),
                List.of(2));
        MapWeights weights = TinyModels.weights(config, 1);
        try (CpuBackend backend = new CpuBackend(config, weights, threads, 1)) {
            System.out.printf("model: hidden %d, %d layers, %d heads / %d kv heads, MLP %d, vocab %d on %s%n",
                    config.hiddenSize(), config.numHiddenLayers(), config.numAttentionHeads(),
                    config.numKeyValueHeads(), config.intermediateSize(), config.vocabSize(), backend.device());
            int blocksPerSeq = (PROMPT + DECODE_STEPS) / 16 + 1;
            PagedDriver driver = new PagedDriver(backend, ROUNDS * (batch + 1) * blocksPerSeq, 16, null);
            // Round 1 doubles as warm-up: Vector API code is slow until C2 has compiled it.
            for (int round = 1; round <= ROUNDS; round++) {
                for (int seqs : new int[] {1, batch}) {
                    double tokensPerSecond = decode(driver, seqs, DECODE_STEPS);
                    System.out.printf("round %d: decode, %2d sequences, context %d+: %8.1f tokens/s%n", round, seqs,
                            PROMPT, tokensPerSecond);
                }
            }
        }
    }

    /** Prefills {@code seqs} prompts one by one, then times {@code steps} batched decode steps. */
    private static double decode(PagedDriver driver, int seqs, int steps) {
        Random rnd = new Random(seqs);
        List<PagedDriver.Seq> all = new ArrayList<>();
        for (int s = 0; s < seqs; s++) {
            PagedDriver.Seq seq = new PagedDriver.Seq(rnd.ints(PROMPT + steps, 0, 32000).toArray());
            driver.step(List.of(seq), PROMPT);
            all.add(seq);
        }
        int[] ones = Collections.nCopies(seqs, 1).stream().mapToInt(Integer::intValue).toArray();
        long start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            driver.step(all, ones);
        }
        return (double) seqs * steps / ((System.nanoTime() - start) / 1e9);
    }
}
