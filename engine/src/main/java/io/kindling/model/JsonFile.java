package io.kindling.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A JSON object read from a checkpoint file, with typed accessors whose errors name the file and the key
 * (nested objects keep their path, e.g. {@code rope_parameters.factor}). A key holding JSON {@code null}
 * counts as absent, as it does for transformers.
 */
final class JsonFile {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path file;
    private final String path;
    private final JsonNode node;

    private JsonFile(Path file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    static JsonFile read(Path file) {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "file not found");
        } catch (JacksonException e) {
            throw new ModelLoadException(file, "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot read: " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelLoadException(file, "expected a JSON object at the top level");
        }
        return new JsonFile(file, "", root);
    }

    JsonNode node() {
        return node;
    }

    boolean has(String key) {
        return value(key) != null;
    }

    Optional<JsonFile> object(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isObject()) {
            throw wrongType(key, "an object", v);
        }
        return Optional.of(new JsonFile(file, name(key) + ".", v));
    }

    int requiredInt(String key) {
        return optionalInt(key).orElseThrow(() -> missing(key));
    }

    OptionalInt optionalInt(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(asInt(key, v));
    }

    double requiredDouble(String key) {
        return optionalDouble(key).orElseThrow(() -> missing(key));
    }

    Optional<Double> optionalDouble(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isNumber()) {
            throw wrongType(key, "a number", v);
        }
        return Optional.of(v.doubleValue());
    }

    Optional<String> optionalString(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isTextual()) {
            throw wrongType(key, "a string", v);
        }
        return Optional.of(v.textValue());
    }

    Optional<Boolean> optionalBoolean(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isBoolean()) {
            throw wrongType(key, "true or false", v);
        }
        return Optional.of(v.booleanValue());
    }

    /** An integer or a list of integers (as {@code eos_token_id} may be); empty when absent. */
    List<Integer> intOrIntList(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return List.of();
        }
        if (!v.isArray()) {
            return List.of(asInt(key, v));
        }
        List<Integer> ids = new ArrayList<>();
        for (JsonNode e : v) {
            ids.add(asInt(key, e));
        }
        return List.copyOf(ids);
    }

    /** A list of strings (such as {@code architectures} or {@code layer_types}); empty when absent. */
    List<String> stringList(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return List.of();
        }
        if (!v.isArray()) {
            throw wrongType(key, "a list of strings", v);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw wrongType(key, "a list of strings", v);
            }
            out.add(e.textValue());
        }
        return List.copyOf(out);
    }

    ModelLoadException missing(String key) {
        return new ModelLoadException(file, "missing required key " + name(key));
    }

    ModelLoadException invalid(String key, String problem) {
        return new ModelLoadException(file, name(key) + " " + problem);
    }

    private JsonNode value(String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    private int asInt(String key, JsonNode v) {
        // Integral floats (e.g. 8192.0) occur in hand-edited configs; Python would accept them too.
        if (v.isIntegralNumber() && v.canConvertToInt()) {
            return v.intValue();
        }
        if (v.isFloatingPointNumber() && v.doubleValue() == Math.rint(v.doubleValue())
                && Math.abs(v.doubleValue()) <= Integer.MAX_VALUE) {
            return (int) v.doubleValue();
        }
        throw wrongType(key, "an integer", v);
    }

    private String name(String key) {
        return path + key;
    }

    private ModelLoadException wrongType(String key, String expected, JsonNode actual) {
        return new ModelLoadException(file, name(key) + " must be " + expected + ", got " + actual);
    }
}
