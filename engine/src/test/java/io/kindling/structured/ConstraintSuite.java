package io.kindling.structured;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The constraint suite of the tests (and the benchmark): JSON schemas, regexes and choices under
 * {@code src/test/resources/structured/}, and how an output is checked against each, independently of the automaton:
 * JSON by Jackson and networknt's JSON-schema validator (formats asserted), regexes by {@code java.util.regex}.
 */
public final class ConstraintSuite {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final SchemaRegistry VALIDATORS = SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12, b -> b.schemaRegistryConfig(
                    SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));
    private static final Map<StructuredOutput, Schema> SCHEMAS = new HashMap<>();

    private ConstraintSuite() {
    }

    public static List<StructuredOutput> jsonSchemas() {
        List<StructuredOutput> out = new ArrayList<>();
        read("schemas.json").forEach(s -> out.add(new StructuredOutput.JsonSchema(s.toString())));
        return out;
    }

    public static List<StructuredOutput> regexes() {
        List<StructuredOutput> out = new ArrayList<>();
        read("regexes.json").forEach(s -> out.add(new StructuredOutput.Regex(s.asText())));
        return out;
    }

    public static List<StructuredOutput> choices() {
        List<StructuredOutput> out = new ArrayList<>();
        read("choices.json").forEach(list -> {
            List<String> choices = new ArrayList<>();
            list.forEach(c -> choices.add(c.asText()));
            out.add(new StructuredOutput.Choice(choices));
        });
        return out;
    }

    /** Why {@code text} does not satisfy {@code constraint}, or empty when it does. */
    public static synchronized Optional<String> violation(StructuredOutput constraint, String text) {
        if (constraint instanceof StructuredOutput.Regex r) {
            return Pattern.compile(r.pattern()).matcher(text).matches() ? Optional.empty()
                    : Optional.of("no full match of " + r.pattern());
        }
        if (constraint instanceof StructuredOutput.Choice c) {
            return c.choices().contains(text) ? Optional.empty() : Optional.of("not one of " + c.choices());
        }
        JsonNode value;
        try {
            value = JSON.readTree(text);
        } catch (IOException e) {
            return Optional.of("not JSON: " + e.getMessage());
        }
        if (constraint instanceof StructuredOutput.JsonObject) {
            return value.isObject() ? Optional.empty() : Optional.of("not an object");
        }
        Schema schema = SCHEMAS.computeIfAbsent(constraint,
                k -> VALIDATORS.getSchema(((StructuredOutput.JsonSchema) k).schema(), InputFormat.JSON));
        List<Error> errors = schema.validate(value);
        return errors.isEmpty() ? Optional.empty() : Optional.of(errors.toString());
    }

    private static JsonNode read(String name) {
        try {
            return JSON.readTree(Files.readString(Fixtures.resource("structured/" + name)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
