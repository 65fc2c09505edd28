package io.kindling.structured;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * What a request's output must be, as vLLM's structured outputs name the kinds: a JSON document of a JSON schema,
 * any JSON object, a full match of a regular expression, or one of several strings. Value equality: the compile
 * cache is keyed by it.
 */
public sealed interface StructuredOutput extends Serializable {

    /** The kind as the front ends spell it, for messages. */
    String kind();

    /** Whether the output is a JSON document (the front ends then parse it). */
    default boolean isJson() {
        return false;
    }

    /** @param schema the schema's JSON text */
    record JsonSchema(String schema) implements StructuredOutput {
        public JsonSchema {
            Objects.requireNonNull(schema, "schema");
        }

        @Override
        public String kind() {
            return "json_schema";
        }

        @Override
        public boolean isJson() {
            return true;
        }
    }

    /** Any JSON object (OpenAI's {@code {"type": "json_object"}}), nested at most {@link JsonGrammar#MAX_DEPTH}. */
    record JsonObject() implements StructuredOutput {
        @Override
        public String kind() {
            return "json_object";
        }

        @Override
        public boolean isJson() {
            return true;
        }
    }

    /** @param pattern a {@code java.util.regex} pattern (a subset: see {@link RegexParser}) the whole output matches */
    record Regex(String pattern) implements StructuredOutput {
        public Regex {
            Objects.requireNonNull(pattern, "pattern");
        }

        @Override
        public String kind() {
            return "regex";
        }
    }

    /** @param choices the output is exactly one of them */
    record Choice(List<String> choices) implements StructuredOutput {
        public Choice {
            choices = List.copyOf(choices);
            if (choices.isEmpty()) {
                throw new StructuredOutputException("choice", "needs at least one string");
            }
        }

        @Override
        public String kind() {
            return "choice";
        }
    }
}
