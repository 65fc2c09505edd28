package io.kindling.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * The front ends' spellings of a constraint, as vLLM and OpenAI name them: {@code response_format},
 * {@code guided_regex} and {@code guided_choice}, at most one per request.
 */
public final class StructuredOutputs {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private StructuredOutputs() {
    }

    /**
     * A {@code response_format}: OpenAI's {@code {"type": "json_schema", "json_schema": {"schema": {...}}}} or
     * {@code {"type": "json_object"}}, or else a JSON schema itself (Spark's {@code map('response_format', schema)}):
     * neither {@code json_schema} nor {@code json_object} is a JSON-schema type, so the two cannot be confused.
     *
     * @throws StructuredOutputException naming what is wrong
     */
    public static StructuredOutput responseFormat(JsonNode value) {
        if (!value.isObject()) {
            throw new StructuredOutputException("response_format", "must be a JSON object, got " + value);
        }
        String type = value.path("type").asText("");
        if (type.equals("json_object")) {
            return new StructuredOutput.JsonObject();
        }
        if (type.equals("json_schema")) {
            JsonNode schema = value.path("json_schema").path("schema");
            if (!schema.isObject() && !schema.isBoolean()) {
                throw new StructuredOutputException("response_format", "json_schema.schema must be a JSON schema "
                        + "object");
            }
            return new StructuredOutput.JsonSchema(schema.toString());
        }
        if (type.equals("text")) {
            throw new StructuredOutputException("response_format", "type \"text\" constrains nothing: leave "
                    + "response_format out");
        }
        return new StructuredOutput.JsonSchema(value.toString());
    }

    /** {@link #responseFormat(JsonNode)} from its JSON text. */
    public static StructuredOutput responseFormat(String text) {
        return responseFormat(parse("response_format", text));
    }

    /** {@code guided_choice} from a JSON list of strings. */
    public static StructuredOutput choice(String jsonList) {
        JsonNode list = parse("guided_choice", jsonList);
        if (!list.isArray()) {
            throw new StructuredOutputException("guided_choice", "must be a JSON list of strings, got " + jsonList);
        }
        List<String> choices = new ArrayList<>();
        for (JsonNode c : list) {
            if (!c.isTextual()) {
                throw new StructuredOutputException("guided_choice", "must be a JSON list of strings, got " + c);
            }
            choices.add(c.textValue());
        }
        return new StructuredOutput.Choice(choices);
    }

    /**
     * Checks that the constraint compiles (a language, not an automaton: no vocabulary here), so a front end
     * refuses a bad one when it reads it rather than on every row.
     *
     * @throws StructuredOutputException naming what is wrong
     */
    public static StructuredOutput validated(StructuredOutput constraint) {
        Grammars.language(constraint);
        return constraint;
    }

    private static JsonNode parse(String kind, String text) {
        try {
            JsonNode node = MAPPER.readTree(text);
            if (node == null) {
                throw new StructuredOutputException(kind, "is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new StructuredOutputException(kind, "is not JSON: " + e.getOriginalMessage());
        }
    }
}
