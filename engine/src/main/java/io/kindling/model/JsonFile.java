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
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A JSON object read from a checkpoint file, with typed accessors whose errors name the file and the key
 * (nested objects keep their path, e.g. {@code rope_parameters.factor}). A key holding JSON {@code null}
 * counts as absent, as it does for transformers.
 *
 * @param keyPrefix how error messages name this object's keys: empty at the top level, {@code rope_parameters.} in a
 *                  nested object
 */
record JsonFile(Path file, String keyPrefix, JsonNode node) {

    private static final ObjectMapper MAPPER = new ObjectMapper();

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

    boolean has(String key) {
        return value(key) != null;
    }

    Optional<JsonFile> object(String key) {
        return optional(key, JsonNode::isObject, "an object", v -> new JsonFile(file, name(key) + ".", v));
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
        return optional(key, JsonNode::isNumber, "a number", JsonNode::doubleValue);
    }

    Optional<String> optionalString(String key) {
        return optional(key, JsonNode::isTextual, "a string", JsonNode::textValue);
    }

    Optional<Boolean> optionalBoolean(String key) {
        return optional(key, JsonNode::isBoolean, "true or false", JsonNode::booleanValue);
    }

    /** {@code key}'s value read by {@code as}: empty when absent, an error saying {@code expected} unless it is. */
    private <T> Optional<T> optional(String key, Predicate<JsonNode> is, String expected, Function<JsonNode, T> as) {
        JsonNode v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!is.test(v)) {
            throw wrongType(key, expected, v);
        }
        return Optional.of(as.apply(v));
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
        return keyPrefix + key;
    }

    private ModelLoadException wrongType(String key, String expected, JsonNode actual) {
        return new ModelLoadException(file, name(key) + " must be " + expected + ", got " + actual);
    }
}
