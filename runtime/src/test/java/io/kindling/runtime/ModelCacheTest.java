package io.kindling.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.EngineConfig;
import io.kindling.core.EngineService;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Copies through Hadoop's FileSystem API: a {@code file:} URI goes the way an {@code hdfs:} one does. */
class ModelCacheTest {

    private static final Set<String> ENGINE_FILES = Set.of("config.json", "generation_config.json",
            "model.safetensors", "tokenizer.json", "tokenizer_config.json");

    @TempDir
    Path tmp;
    private Path source;
    private Path cacheRoot;

    @BeforeEach
    void remoteCheckpoint() throws IOException {
        source = tmp.resolve("remote").resolve("kindling-define-6m");
        BundledModel.copyTo(source);
        // Files a repository carries that the engine never reads.
        Files.writeString(source.resolve("consolidated.safetensors"), "other weights");
        Files.writeString(source.resolve("pytorch_model.bin"), "pickled weights");
        cacheRoot = tmp.resolve("cache");
    }

    private ModelCache cache() {
        return new ModelCache(cacheRoot, new Configuration());
    }

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return new TreeSet<>(files.map(f -> f.getFileName().toString()).toList());
        }
    }

    @Test
    void copiesTheCheckpointFilesOnceAndTheEngineServesFromTheCopy() throws Exception {
        ModelCache.LocalModel first = cache().fetch(source.toUri());
        assertTrue(first.copied());
        assertEquals(cacheRoot, first.dir().getParent());
        assertTrue(first.dir().getFileName().toString().matches("kindling-define-6m-[0-9a-f]{16}"),
                first.dir().toString());
        assertEquals(new TreeSet<>(ENGINE_FILES), names(first.dir()));
        for (String name : ENGINE_FILES) {
            assertArrayEquals(Files.readAllBytes(source.resolve(name)), Files.readAllBytes(first.dir().resolve(name)),
                    name);
        }
        FileTime published = Files.getLastModifiedTime(first.dir().resolve("model.safetensors"));

        ModelCache.LocalModel second = cache().fetch(source.toUri());
        assertFalse(second.copied());
        assertEquals(first.dir(), second.dir());
        assertEquals(published, Files.getLastModifiedTime(second.dir().resolve("model.safetensors")));
        assertEquals(Set.of(first.dir().getFileName().toString(), first.dir().getFileName() + ".lock"),
                names(cacheRoot));

        try (EngineService engine = EngineService.start(EngineConfig.defaults(second.dir()).withDevice("cpu")
                .withKvCacheMemoryBytes(16L << 20).withNumThreads(1))) {
            assertArrayEquals(BundledModel.APPLE_GREEDY, BundledModel.greedyApple(engine));
        }
    }

    @Test
    void racingFetchesCopyOnceAndNeverShowAPartialDirectory() throws Exception {
        int racers = 4;
        CountDownLatch start = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService threads = Executors.newFixedThreadPool(racers + 1);
        // Whatever directory appears under the cache root, other than a staging one, is already complete.
        Future<Integer> complete = threads.submit(() -> {
            int checks = 0;
            for (boolean last = false; !last; ) {
                last = done.get();
                if (Files.isDirectory(cacheRoot)) {
                    for (String name : names(cacheRoot)) {
                        Path dir = cacheRoot.resolve(name);
                        if (!name.contains(".tmp-") && Files.isDirectory(dir)) {
                            assertEquals(new TreeSet<>(ENGINE_FILES), names(dir));
                            assertEquals(Files.size(source.resolve("model.safetensors")),
                                    Files.size(dir.resolve("model.safetensors")));
                            checks++;
                        }
                    }
                }
            }
            return checks;
        });
        List<Future<ModelCache.LocalModel>> fetches = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
            // A cache per racer, as two executor JVMs of one host each have their own.
            ModelCache cache = cache();
            fetches.add(threads.submit(() -> {
                start.await();
                return cache.fetch(source.toUri());
            }));
        }
        start.countDown();
        int copies = 0;
        Set<Path> dirs = new TreeSet<>();
        for (Future<ModelCache.LocalModel> fetch : fetches) {
            copies += fetch.get().copied() ? 1 : 0;
            dirs.add(fetch.get().dir());
        }
        done.set(true);
        assertTrue(complete.get() > 0);
        threads.shutdown();
        assertEquals(1, copies);
        assertEquals(1, dirs.size());
        assertEquals(2, names(cacheRoot).size(), names(cacheRoot).toString());
    }

    @Test
    void aChangedCheckpointGetsANewCopy() throws Exception {
        Path before = cache().fetch(source.toUri()).dir();
        Files.writeString(source.resolve("generation_config.json"), "{\"temperature\": 0.5}");
        ModelCache.LocalModel after = cache().fetch(source.toUri());
        assertTrue(after.copied());
        assertNotEquals(before, after.dir());
        assertEquals("{\"temperature\": 0.5}", Files.readString(after.dir().resolve("generation_config.json")));
    }

    @Test
    void aStagingDirectoryLeftByADeadCopyIsRemoved() throws Exception {
        Path published = cache().fetch(source.toUri()).dir();
        String name = published.getFileName().toString();
        Files.walk(published).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        Path stale = Files.createDirectories(cacheRoot.resolve(name + ".tmp-123"));
        Files.writeString(stale.resolve("model.safetensors"), "half a file");

        assertTrue(cache().fetch(source.toUri()).copied());
        assertEquals(Set.of(name, name + ".lock"), names(cacheRoot));
    }

    @Test
    void aMissingModelIsNamedByItsUri() {
        URI missing = tmp.resolve("nowhere").toUri();
        ModelLocationException e = assertThrows(ModelLocationException.class, () -> cache().fetch(missing));
        assertEquals("model " + missing + ": does not exist", e.getMessage());
    }

    @Test
    void aDirectoryWithoutConfigIsNotACheckpoint() throws IOException {
        Files.delete(source.resolve("config.json"));
        ModelLocationException e = assertThrows(ModelLocationException.class, () -> cache().fetch(source.toUri()));
        assertTrue(e.getMessage().startsWith("model " + source.toUri() + ": no config.json"), e.getMessage());
        assertFalse(Files.exists(cacheRoot));
    }

    @Test
    void shardedWeightsCopyTheShardsTheIndexLists() throws Exception {
        Path sharded = tmp.resolve("sharded");
        Files.createDirectories(sharded);
        Files.writeString(sharded.resolve("config.json"), "{}");
        Files.writeString(sharded.resolve("model.safetensors.index.json"), """
                {"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00002-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}}""");
        Files.writeString(sharded.resolve("model-00001-of-00002.safetensors"), "shard 1");
        Files.writeString(sharded.resolve("model-00002-of-00002.safetensors"), "shard 2");
        Files.writeString(sharded.resolve("consolidated.safetensors"), "unused");

        Path copy = cache().fetch(sharded.toUri()).dir();
        assertEquals(Set.of("config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors"), names(copy));

        Files.delete(sharded.resolve("model-00002-of-00002.safetensors"));
        ModelLocationException e = assertThrows(ModelLocationException.class, () -> cache().fetch(sharded.toUri()));
        assertTrue(e.getMessage().endsWith("model.safetensors.index.json lists model-00002-of-00002.safetensors, "
                + "which is not in the directory"), e.getMessage());
    }

    @Test
    void localPathsAndFileUrisAreUsedInPlace() {
        assertEquals(source, ModelLocator.local(source.toString(), this::cache));
        assertEquals(source, ModelLocator.local("file://" + source, this::cache));
        assertEquals(source, ModelLocator.local("file:" + source, this::cache));
    }
}
