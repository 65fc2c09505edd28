package io.kindling.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The files of a remote checkpoint directory that the engine reads, and only those: repositories often carry
 * other weights too (a {@code consolidated.safetensors}, {@code pytorch_model.bin}) that would double the copy.
 * The weights are chosen as the engine chooses them: {@code model.safetensors}, else the shards that
 * {@code model.safetensors.index.json} lists.
 */
public final class CheckpointFiles {

    static final String CONFIG = "config.json";
    static final String SINGLE_WEIGHTS = "model.safetensors";
    static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    private static final Set<String> SIDE_FILES = Set.of(CONFIG, "generation_config.json", "chat_template.jinja",
            "special_tokens_map.json");

    private CheckpointFiles() {
    }

    /**
     * The statuses of the files to copy, sorted by name.
     *
     * @param where said after "does not exist", e.g. where it was looked for
     * @throws ModelLocationException when {@code dir} is missing, a file, or not a checkpoint
     */
    public static List<FileStatus> select(FileSystem fs, Path dir, String location, String where) throws IOException {
        FileStatus root;
        try {
            root = fs.getFileStatus(dir);
        } catch (FileNotFoundException e) {
            throw new ModelLocationException(location, "does not exist" + where);
        }
        if (!root.isDirectory()) {
            throw new ModelLocationException(location, "is a file, not a checkpoint directory");
        }
        Map<String, FileStatus> byName = new LinkedHashMap<>();
        for (FileStatus status : fs.listStatus(dir)) {
            if (status.isFile()) {
                byName.put(status.getPath().getName(), status);
            }
        }
        if (!byName.containsKey(CONFIG)) {
            throw new ModelLocationException(location, "no " + CONFIG + " in it (a model is a Hugging Face "
                    + "checkpoint directory: config.json, tokenizer.json, *.safetensors)");
        }
        Set<String> wanted = new TreeSet<>();
        for (String name : byName.keySet()) {
            if (SIDE_FILES.contains(name) || (name.startsWith("tokenizer") && name.endsWith(".json"))) {
                wanted.add(name);
            }
        }
        if (byName.containsKey(SINGLE_WEIGHTS)) {
            wanted.add(SINGLE_WEIGHTS);
        } else if (byName.containsKey(WEIGHTS_INDEX)) {
            wanted.add(WEIGHTS_INDEX);
            for (String shard : shards(fs, byName.get(WEIGHTS_INDEX).getPath(), location)) {
                if (!byName.containsKey(shard)) {
                    throw new ModelLocationException(location, WEIGHTS_INDEX + " lists " + shard
                            + ", which is not in the directory");
                }
                wanted.add(shard);
            }
        } else {
            throw new ModelLocationException(location, "no " + SINGLE_WEIGHTS + " or " + WEIGHTS_INDEX
                    + " (only safetensors weights are supported)");
        }
        List<FileStatus> files = new ArrayList<>();
        for (String name : wanted) {
            files.add(byName.get(name));
        }
        return files;
    }

    private static Set<String> shards(FileSystem fs, Path index, String location) throws IOException {
        JsonNode weightMap;
        try (InputStream in = fs.open(index)) {
            weightMap = JsonMapper.builder().build().readTree(in).path("weight_map");
        }
        if (!weightMap.isObject()) {
            throw new ModelLocationException(location, WEIGHTS_INDEX + " has no weight_map object");
        }
        Set<String> shards = new TreeSet<>();
        for (JsonNode file : weightMap) {
            if (!file.isTextual()) {
                throw new ModelLocationException(location, WEIGHTS_INDEX + " maps a tensor to " + file
                        + ", not a file name");
            }
            shards.add(file.asText());
        }
        return shards;
    }
}
