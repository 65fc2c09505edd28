package io.kindling.runtime;

import io.kindling.core.EngineConfig;
import io.kindling.core.RequestOutput;
import io.kindling.core.EngineService;
import io.kindling.core.Request;
import io.kindling.sampling.SamplingParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The shipped model (examples/models/kindling-define-6m) and small engine keys for it; the connectors' tests use it. */
public final class BundledModel {

    public static final Path DIR = Path.of("..", "examples", "models", "kindling-define-6m").toAbsolutePath().normalize();

    private BundledModel() {
    }

    public static EngineKey key(String model, String device, int maxNumSeqs) {
        return new EngineKey(model, EngineConfig.builder(null).device(device).maxNumSeqs(maxNumSeqs)
                .maxNumBatchedTokens(256).blockSize(16).kvCacheMemoryBytes(16L << 20).numThreads(1)
                .gpuMemoryUtilization(0.9).build());
    }

    public static EngineKey key() {
        return key(DIR.toString(), "cpu", 8);
    }

    /** The first greedy tokens after "apple:" in reference.json (transformers). */
    public static final int[] APPLE_GREEDY = {334, 1090, 403, 293, 673, 266};

    /** The first greedy tokens after "apple:": proof that an engine really serves. */
    public static int[] greedyApple(EngineService engine) throws Exception {
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(APPLE_GREEDY.length)
                .ignoreEos(true).build();
        Request request = new Request("apple-" + System.nanoTime(), engine.tokenizer().encode("apple:"), params);
        RequestOutput out = engine.submit(request).get();
        return out.completion().tokenIds();
    }

    public static void copyTo(Path target) throws IOException {
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, target.resolve(f.getFileName()));
            }
        }
    }
}
