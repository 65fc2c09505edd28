package io.kindling.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a checkpoint directory: {@code model.safetensors}, or the shards that
 * {@code model.safetensors.index.json} lists in its {@code weight_map} (the single file wins when both exist,
 * as in transformers).
 */
final class SafetensorsWeights implements Weights {

    private static final String SINGLE_FILE = "model.safetensors";
    private static final String INDEX_FILE = "model.safetensors.index.json";

    private record Located(SafetensorsFile file, SafetensorsFile.Tensor tensor) {
    }

    /** The single file or the index: where a missing tensor was looked for. */
    private final Path source;
    private final List<SafetensorsFile> files;
    private final Map<String, Located> tensors;

    private SafetensorsWeights(Path source, List<SafetensorsFile> files, Map<String, Located> tensors) {
        this.source = source;
        this.files = files;
        this.tensors = tensors;
    }

    static SafetensorsWeights open(Path dir) {
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.exists(single)) {
            SafetensorsFile file = SafetensorsFile.open(single);
            Map<String, Located> tensors = new LinkedHashMap<>();
            file.tensors().forEach((name, tensor) -> tensors.put(name, new Located(file, tensor)));
            return new SafetensorsWeights(single, List.of(file), Collections.unmodifiableMap(tensors));
        }
        Path index = dir.resolve(INDEX_FILE);
        if (Files.exists(index)) {
            return openShards(dir, index);
        }
        throw new ModelLoadException(dir, "no " + SINGLE_FILE + " or " + INDEX_FILE
                + " (only safetensors weights are supported)");
    }

    private static SafetensorsWeights openShards(Path dir, Path index) {
        JsonFile json = JsonFile.read(index);
        JsonNode weightMap = json.object("weight_map").orElseThrow(() -> json.missing("weight_map")).node();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        Map<String, Located> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
                String name = entry.getKey();
                SafetensorsFile shard = shard(dir, index, name, entry.getValue(), shards);
                SafetensorsFile.Tensor tensor = shard.tensors().get(name);
                if (tensor == null) {
                    throw new ModelLoadException(index, "weight_map puts " + name + " in "
                            + shard.file().getFileName() + ", which does not contain it");
                }
                tensors.put(name, new Located(shard, tensor));
            }
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new SafetensorsWeights(index, List.copyOf(shards.values()), Collections.unmodifiableMap(tensors));
    }

    private static SafetensorsFile shard(Path dir, Path index, String name, JsonNode fileName,
                                         Map<String, SafetensorsFile> opened) {
        if (!fileName.isTextual()) {
            throw new ModelLoadException(index, "weight_map." + name + " must be a file name, got " + fileName);
        }
        SafetensorsFile shard = opened.get(fileName.textValue());
        if (shard == null) {
            Path path = dir.resolve(fileName.textValue()).normalize();
            if (!path.startsWith(dir.normalize())) {
                throw new ModelLoadException(index, "weight_map." + name + " names " + fileName.textValue()
                        + ", which lies outside the checkpoint directory");
            }
            if (!Files.exists(path)) {
                throw new ModelLoadException(index, "weight_map puts " + name + " in " + fileName.textValue()
                        + ", which does not exist");
            }
            shard = SafetensorsFile.open(path);
            opened.put(fileName.textValue(), shard);
        }
        return shard;
    }

    /** The file to blame for a problem with {@code name}: the file holding it, else the single file or index. */
    Path fileOf(String name) {
        Located located = tensors.get(name);
        return located != null ? located.file().file() : source;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return locate(name).tensor().info();
    }

    @Override
    public float[] readFloats(String name) {
        Located located = locate(name);
        return located.file().readFloats(located.tensor());
    }

    /** A view of the mapped file for bf16 tensors; f32 and f16 ones are rounded into a new buffer. */
    @Override
    public ByteBuffer readBf16(String name) {
        Located located = locate(name);
        return located.file().readBf16(located.tensor());
    }

    private Located locate(String name) {
        Located located = tensors.get(name);
        if (located == null) {
            throw new ModelLoadException(source, "no tensor named " + name);
        }
        return located;
    }

    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        for (SafetensorsFile file : files) {
            try {
                file.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}
