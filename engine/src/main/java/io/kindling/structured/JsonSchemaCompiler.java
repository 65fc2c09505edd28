package io.kindling.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JSON schema as users write it for extraction, compiled to the byte language of the documents it accepts:
 * objects ({@code properties} in their declared order, {@code required}, {@code additionalProperties}, of which none
 * are generated), strings ({@code enum}, {@code const}, {@code minLength}/{@code maxLength}, {@code format} date,
 * date-time, time, uuid), integers and numbers (integer bounds; {@code multipleOf} 1, 0.1, 0.01, ... for numbers),
 * booleans, null, arrays ({@code items},
 * {@code minItems}, {@code maxItems}), {@code anyOf}, type lists, {@code enum}/{@code const} of any type, and
 * {@code $ref} to local {@code $defs}/{@code definitions}, recursion cut at {@link #MAX_REF_DEPTH}. Annotations
 * ({@code title}, {@code description}, ...) are read past; any other keyword is an error that names it.
 */
final class JsonSchemaCompiler {

    static final String KIND = "json_schema";
    /** How often one {@code $ref} may expand inside itself; deeper, the reference matches nothing. */
    static final int MAX_REF_DEPTH = 3;
    /** Bounds above this are refused: each allowed length is automaton states. */
    static final int MAX_LENGTH_BOUND = 1000;

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "$defs", "definitions", "deprecated", "readOnly", "writeOnly");
    private static final Set<String> KEYWORDS = Set.of("type", "properties", "required", "additionalProperties",
            "enum", "const", "minLength", "maxLength", "format", "minimum", "maximum", "exclusiveMinimum",
            "exclusiveMaximum", "multipleOf", "items", "minItems", "maxItems", "anyOf", "$ref");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final JsonNode root;
    private final Map<String, Integer> refDepth = new HashMap<>();

    private JsonSchemaCompiler(JsonNode root) {
        this.root = root;
    }

    static Node compile(String schema) {
        JsonNode root;
        try {
            root = MAPPER.readTree(schema);
        } catch (JsonProcessingException e) {
            throw new StructuredOutputException(KIND, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null) {
            throw new StructuredOutputException(KIND, "empty schema");
        }
        return new JsonSchemaCompiler(root).value(root, "#");
    }

    private Node value(JsonNode schema, String path) {
        if (schema.isBoolean()) {
            return schema.asBoolean() ? JsonGrammar.anyValue(JsonGrammar.MAX_DEPTH) : Node.NOTHING;
        }
        if (!schema.isObject()) {
            throw error(path, "a schema must be an object or a boolean");
        }
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYWORDS.contains(key) && !ANNOTATIONS.contains(key)) {
                throw error(path, "keyword '" + key + "' is not supported");
            }
        }
        if (schema.has("$ref")) {
            only(schema, path, "$ref");
            return reference(schema.get("$ref").asText(), path);
        }
        if (schema.has("const")) {
            only(schema, path, "const", "type");
            return literal(schema.get("const"));
        }
        if (schema.has("enum")) {
            only(schema, path, "enum", "type");
            List<Node> options = new ArrayList<>();
            schema.get("enum").forEach(v -> options.add(literal(v)));
            return new Node.Alt(options);
        }
        if (schema.has("anyOf")) {
            only(schema, path, "anyOf");
            List<Node> options = new ArrayList<>();
            int i = 0;
            for (JsonNode option : schema.get("anyOf")) {
                options.add(value(option, path + "/anyOf/" + i++));
            }
            return new Node.Alt(options);
        }
        JsonNode type = schema.get("type");
        if (type == null) {
            return schema.has("properties") ? object(schema, path)
                    : schema.has("items") ? array(schema, path) : JsonGrammar.anyValue(JsonGrammar.MAX_DEPTH);
        }
        if (type.isArray()) {
            List<Node> options = new ArrayList<>();
            type.forEach(t -> options.add(typed(t.asText(), schema, path)));
            return new Node.Alt(options);
        }
        return typed(type.asText(), schema, path);
    }

    private Node typed(String type, JsonNode schema, String path) {
        return switch (type) {
            case "object" -> object(schema, path);
            case "array" -> array(schema, path);
            case "string" -> string(schema, path);
            case "integer" -> {
                if (fractionDigits(schema, path) > 0) {
                    throw error(path, "multipleOf below 1 cannot apply to an integer");
                }
                yield JsonGrammar.integer(bound(schema, path, "minimum", "exclusiveMinimum", 1),
                        bound(schema, path, "maximum", "exclusiveMaximum", -1));
            }
            case "number" -> number(schema, path);
            case "boolean" -> JsonGrammar.BOOLEAN;
            case "null" -> JsonGrammar.NULL;
            default -> throw error(path, "type '" + type + "' is not a JSON schema type");
        };
    }

    private Node object(JsonNode schema, String path) {
        JsonNode properties = schema.get("properties");
        JsonNode additional = schema.get("additionalProperties");
        if (additional != null && !additional.isBoolean() && !additional.isObject()) {
            throw error(path, "additionalProperties must be a boolean or a schema");
        }
        if (properties == null || properties.isEmpty()) {
            if (schema.has("required") && !schema.get("required").isEmpty()) {
                throw error(path, "required names properties that 'properties' does not define");
            }
            // no declared properties: any members, unless additionalProperties is false
            return additional != null && additional.isBoolean() && !additional.asBoolean()
                    ? Node.seq(Node.literal("{"), JsonGrammar.WS, Node.literal("}"))
                    : JsonGrammar.anyObject(JsonGrammar.anyValue(JsonGrammar.MAX_DEPTH - 1));
        }
        List<String> required = new ArrayList<>();
        if (schema.has("required")) {
            schema.get("required").forEach(r -> required.add(r.asText()));
        }
        for (String name : required) {
            if (!properties.has(name)) {
                throw error(path, "required property '" + name + "' is not in properties");
            }
        }
        List<Node> members = new ArrayList<>();
        List<Boolean> isRequired = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            members.add(Node.seq(literal(MAPPER.getNodeFactory().textNode(p.getKey())), JsonGrammar.WS,
                    Node.literal(":"), JsonGrammar.WS, value(p.getValue(), path + "/properties/" + p.getKey())));
            isRequired.add(required.contains(p.getKey()));
        }
        Node separator = Node.seq(JsonGrammar.WS, Node.literal(","), JsonGrammar.WS);
        return Node.seq(Node.literal("{"), JsonGrammar.WS, new Node.Members(members, isRequired, separator),
                JsonGrammar.WS, Node.literal("}"));
    }

    private Node array(JsonNode schema, String path) {
        Node item = schema.has("items") ? value(schema.get("items"), path + "/items")
                : JsonGrammar.anyValue(JsonGrammar.MAX_DEPTH - 1);
        int min = count(schema, path, "minItems", 0);
        int max = count(schema, path, "maxItems", Node.UNBOUNDED);
        checkOrder(path, "minItems", min, "maxItems", max);
        return JsonGrammar.array(item, min, max);
    }

    private Node string(JsonNode schema, String path) {
        int min = count(schema, path, "minLength", 0);
        int max = count(schema, path, "maxLength", Node.UNBOUNDED);
        checkOrder(path, "minLength", min, "maxLength", max);
        if (!schema.has("format")) {
            return JsonGrammar.string(min, max);
        }
        if (schema.has("minLength") || schema.has("maxLength")) {
            throw error(path, "format with minLength/maxLength is not supported");
        }
        String format = schema.get("format").asText();
        return JsonGrammar.quoted(switch (format) {
            case "date" -> Formats.DATE;
            case "time" -> Formats.TIME;
            case "date-time" -> Node.seq(Formats.DATE, Node.literal("T"), Formats.TIME);
            case "uuid" -> Formats.UUID;
            default -> throw error(path, "format '" + format + "' is not supported (date, time, date-time, uuid are)");
        });
    }

    private Node reference(String ref, String path) {
        String name;
        if (ref.startsWith("#/$defs/")) {
            name = ref.substring("#/$defs/".length());
        } else if (ref.startsWith("#/definitions/")) {
            name = ref.substring("#/definitions/".length());
        } else if (ref.equals("#")) {
            name = "";
        } else {
            throw error(path, "$ref '" + ref + "' is not supported: only local #/$defs/... and #/definitions/...");
        }
        JsonNode target = name.isEmpty() ? root
                : root.path(ref.startsWith("#/$defs/") ? "$defs" : "definitions").get(name);
        if (target == null) {
            throw error(path, "$ref '" + ref + "' names no definition");
        }
        int depth = refDepth.getOrDefault(ref, 0);
        if (depth >= MAX_REF_DEPTH) {
            return Node.NOTHING; // deeper recursion is not generated: its optional places stay empty
        }
        refDepth.put(ref, depth + 1);
        try {
            return value(target, ref);
        } finally {
            refDepth.put(ref, depth);
        }
    }

    /** The compact JSON text of {@code value}, exactly. */
    private static Node literal(JsonNode value) {
        try {
            return Node.literal(MAPPER.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A number: integer bounds, inclusive, or exclusive where they lie away from zero. */
    private Node number(JsonNode schema, String path) {
        for (String[] pair : new String[][] {{"minimum", "exclusiveMinimum"}, {"maximum", "exclusiveMaximum"}}) {
            if (schema.has(pair[0]) && schema.has(pair[1])) {
                throw error(path, pair[0] + " with " + pair[1] + " is not supported for numbers");
            }
        }
        boolean loExclusive = schema.has("exclusiveMinimum");
        boolean hiExclusive = schema.has("exclusiveMaximum");
        Long lo = bound(schema, path, loExclusive ? "exclusiveMinimum" : "minimum", null, 0);
        Long hi = bound(schema, path, hiExclusive ? "exclusiveMaximum" : "maximum", null, 0);
        if (loExclusive && lo >= 0 || hiExclusive && hi <= 0) {
            throw error(path, "an exclusive number bound is supported only away from zero (exclusiveMinimum < 0, "
                    + "exclusiveMaximum > 0)");
        }
        return JsonGrammar.boundedNumber(lo, loExclusive, hi, hiExclusive, fractionDigits(schema, path));
    }

    /** An integer bound from {@code inclusive} or {@code exclusive} (moved inward by {@code step}), or null. */
    private Long bound(JsonNode schema, String path, String inclusive, String exclusive, int step) {
        Long bound = null;
        for (String key : exclusive == null ? List.of(inclusive) : List.of(inclusive, exclusive)) {
            JsonNode v = schema.get(key);
            if (v == null) {
                continue;
            }
            if (!v.isIntegralNumber() && !(v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0)) {
                throw error(path, key + " " + v + " is not an integer: only integer bounds are supported");
            }
            long b = v.asLong() + (key.equals(inclusive) ? 0 : step);
            bound = bound == null ? b : step >= 0 ? Math.max(bound, b) : Math.min(bound, b);
        }
        return bound;
    }

    /**
     * The fraction digits {@code multipleOf} allows: it must be 1 or a power of ten below it (0.01: two digits, as
     * a decimal column needs); {@link Node#UNBOUNDED} when absent.
     */
    private int fractionDigits(JsonNode schema, String path) {
        JsonNode v = schema.get("multipleOf");
        if (v == null) {
            return Node.UNBOUNDED;
        }
        BigDecimal m = v.isNumber() ? v.decimalValue().stripTrailingZeros() : null;
        if (m == null || m.unscaledValue().intValue() != 1 || m.unscaledValue().bitLength() != 1 || m.scale() < 0) {
            throw error(path, "multipleOf " + v + " is not supported (1, 0.1, 0.01, ... are)");
        }
        return m.scale();
    }

    private int count(JsonNode schema, String path, String key, int absent) {
        JsonNode v = schema.get(key);
        if (v == null) {
            return absent;
        }
        if (!v.canConvertToInt() || v.asInt() < 0 || !v.isIntegralNumber()) {
            throw error(path, key + " must be a non-negative integer, got " + v);
        }
        if (v.asInt() > MAX_LENGTH_BOUND) {
            throw error(path, key + " " + v.asInt() + " is above the supported " + MAX_LENGTH_BOUND);
        }
        return v.asInt();
    }

    private void checkOrder(String path, String minKey, int min, String maxKey, int max) {
        if (max != Node.UNBOUNDED && max < min) {
            throw error(path, maxKey + " " + max + " is below " + minKey + " " + min);
        }
    }

    /** {@code allowed[0]} combines with no constraining keyword but the rest of {@code allowed}. */
    private void only(JsonNode schema, String path, String... allowed) {
        Set<String> ok = Set.of(allowed);
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!ok.contains(key) && !ANNOTATIONS.contains(key)) {
                throw error(path, "'" + key + "' next to '" + allowed[0] + "' is not supported");
            }
        }
    }

    private static StructuredOutputException error(String path, String problem) {
        return new StructuredOutputException(KIND, "at " + path + ": " + problem);
    }
}
