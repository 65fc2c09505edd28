package io.kindling.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.sampling.EarlyStopping;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingParams;
import io.kindling.structured.StructuredOutput;
import io.kindling.structured.StructuredOutputException;
import io.kindling.structured.StructuredOutputs;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.ObjDoubleConsumer;
import java.util.function.ObjIntConsumer;

/**
 * Validates input rows into request specs. Strict: an unknown field, a wrong type or a bad value rejects the row
 * with a message naming the row and the field, so a typo never silently does nothing. A row's sampling fields
 * override {@code defaults} (the model's generation config under the command-line flags); a JSON null counts as
 * absent.
 */
final class RowParser {

    static final List<String> PROMPT_FIELDS = List.of("prompt", "prompt_token_ids", "messages");
    /** How each row field of the options catalogue sets its sampling parameter. */
    private static final Map<Option, BiConsumer<SamplingParams.Builder, JsonNode>> SAMPLING_FIELDS =
            new EnumMap<>(Option.class);

    static {
        integer(Option.MAX_TOKENS, SamplingParams.Builder::maxTokens);
        integer(Option.MIN_TOKENS, SamplingParams.Builder::minTokens);
        number(Option.TEMPERATURE, SamplingParams.Builder::temperature);
        number(Option.TOP_P, SamplingParams.Builder::topP);
        integer(Option.TOP_K, SamplingParams.Builder::topK);
        number(Option.MIN_P, SamplingParams.Builder::minP);
        SAMPLING_FIELDS.put(Option.SEED, (b, v) -> b.seed(longValue("seed", v)));
        SAMPLING_FIELDS.put(Option.STOP,
                (b, v) -> b.stop(v.isTextual() ? List.of(v.textValue()) : strings("stop", v)));
        SAMPLING_FIELDS.put(Option.STOP_TOKEN_IDS, (b, v) -> b.stopTokenIds(integers("stop_token_ids", v)));
        SAMPLING_FIELDS.put(Option.IGNORE_EOS, (b, v) -> b.ignoreEos(bool("ignore_eos", v)));
        integer(Option.LOGPROBS, SamplingParams.Builder::logprobs);
        integer(Option.N, SamplingParams.Builder::n);
        number(Option.REPETITION_PENALTY, SamplingParams.Builder::repetitionPenalty);
        number(Option.PRESENCE_PENALTY, SamplingParams.Builder::presencePenalty);
        number(Option.FREQUENCY_PENALTY, SamplingParams.Builder::frequencyPenalty);
        integer(Option.BEAM_WIDTH, SamplingParams.Builder::beamWidth);
        number(Option.LENGTH_PENALTY, SamplingParams.Builder::lengthPenalty);
        SAMPLING_FIELDS.put(Option.EARLY_STOPPING, (b, v) -> b.earlyStopping(earlyStopping(v)));
        SAMPLING_FIELDS.put(Option.RESPONSE_FORMAT, (b, v) -> b.structuredOutput(v.isTextual()
                ? StructuredOutputs.responseFormat(v.textValue()) : StructuredOutputs.responseFormat(v)));
        SAMPLING_FIELDS.put(Option.GUIDED_REGEX, (b, v) -> {
            if (!v.isTextual()) {
                throw typeError("guided_regex", "a string", v);
            }
            b.structuredOutput(new StructuredOutput.Regex(v.textValue()));
        });
        SAMPLING_FIELDS.put(Option.GUIDED_CHOICE, (b, v) -> {
            List<String> choices = strings("guided_choice", v);
            if (choices.isEmpty()) {
                throw new FieldException("guided_choice is empty");
            }
            b.structuredOutput(new StructuredOutput.Choice(choices));
        });
    }

    private static final List<Option> CONSTRAINTS = List.of(Option.RESPONSE_FORMAT, Option.GUIDED_REGEX,
            Option.GUIDED_CHOICE);

    private final SamplingParams defaults;
    private final int vocabSize;

    RowParser(SamplingParams defaults, int vocabSize) {
        this.defaults = defaults;
        this.vocabSize = vocabSize;
    }

    /** Every field a row may have: {@code id}, the prompt fields and the catalogue's row options. */
    static boolean isKnownField(String name) {
        return name.equals("id") || PROMPT_FIELDS.contains(name) || Option.spelled(FrontEnd.ROW, name).isPresent();
    }

    /** The catalogue's row options this parser reads: all of them, as {@code OptionCatalogueTest} checks. */
    static Set<Option> optionsRead() {
        return Collections.unmodifiableSet(SAMPLING_FIELDS.keySet());
    }

    InputRow parse(RawRow raw) {
        if (raw instanceof RawRow.Unreadable u) {
            return new InputRow.Rejected(u.index(), u.where(), NullNode.instance, u.where() + ": " + u.problem());
        }
        JsonNode row = ((RawRow.Fields) raw).value();
        JsonNode id = idOf(raw);
        try {
            if (!row.isObject()) {
                String type = row.getNodeType().name().toLowerCase(Locale.ROOT);
                throw new FieldException("expected a JSON object, got " + type);
            }
            checkFieldNames(row);
            return new InputRow.Spec(raw.index(), raw.where(), id, prompt(row), samplingParams(row));
        } catch (FieldException | InvalidSamplingParamException | StructuredOutputException e) {
            return new InputRow.Rejected(raw.index(), raw.where(), id, raw.where() + ": " + e.getMessage());
        }
    }

    /** The row's {@code id} as its output row echoes it: JSON null when it has none or could not be read. */
    static JsonNode idOf(RawRow raw) {
        if (raw instanceof RawRow.Fields f && f.value().isObject() && f.value().has("id")) {
            return f.value().get("id");
        }
        return NullNode.instance;
    }

    private static void checkFieldNames(JsonNode row) {
        for (Iterator<Map.Entry<String, JsonNode>> it = row.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            if (!isKnownField(name)) {
                throw new FieldException("unknown field '" + name + "'");
            }
        }
    }

    private Prompt prompt(JsonNode row) {
        List<String> given = PROMPT_FIELDS.stream().filter(f -> present(row, f)).toList();
        if (given.size() != 1) {
            throw new FieldException((given.isEmpty() ? "no prompt" : "both " + String.join(" and ", given))
                    + ": give exactly one of prompt, prompt_token_ids or messages");
        }
        JsonNode value = row.get(given.get(0));
        switch (given.get(0)) {
            case "prompt" -> {
                if (!value.isTextual()) {
                    throw typeError("prompt", "a string", value);
                }
                if (value.textValue().isEmpty()) {
                    throw new FieldException("prompt is empty");
                }
                return new Prompt.Text(value.textValue());
            }
            case "prompt_token_ids" -> {
                List<Integer> ids = integers("prompt_token_ids", value);
                if (ids.isEmpty()) {
                    throw new FieldException("prompt_token_ids is empty");
                }
                for (int i = 0; i < ids.size(); i++) {
                    if (ids.get(i) < 0 || ids.get(i) >= vocabSize) {
                        throw new FieldException("prompt_token_ids[" + i + "] = " + ids.get(i)
                                + " is outside the vocabulary [0, " + vocabSize + ")");
                    }
                }
                return new Prompt.TokenIds(ids.stream().mapToInt(Integer::intValue).toArray());
            }
            default -> {
                return new Prompt.Chat(messages(value));
            }
        }
    }

    private static List<Map<String, Object>> messages(JsonNode value) {
        if (!value.isArray()) {
            throw typeError("messages", "a list of {\"role\", \"content\"} objects", value);
        }
        if (value.isEmpty()) {
            throw new FieldException("messages is empty");
        }
        for (int i = 0; i < value.size(); i++) {
            JsonNode m = value.get(i);
            if (!m.isObject() || !m.path("role").isTextual()) {
                throw typeError("messages[" + i + "]", "an object with a string \"role\"", m);
            }
        }
        return Json.MAPPER.convertValue(value, new TypeReference<List<Map<String, Object>>>() { });
    }

    private SamplingParams samplingParams(JsonNode row) {
        List<String> constraints = CONSTRAINTS.stream().map(Option::snakeName).filter(f -> present(row, f)).toList();
        if (constraints.size() > 1) {
            throw new FieldException("both " + String.join(" and ", constraints) + ": a row takes at most one of "
                    + "response_format, guided_regex or guided_choice");
        }
        SamplingParams.Builder b = defaults.toBuilder();
        SAMPLING_FIELDS.forEach((option, setter) -> {
            if (present(row, option.snakeName())) {
                setter.accept(b, row.get(option.snakeName()));
            }
        });
        return b.build();
    }

    private static boolean present(JsonNode row, String field) {
        return row.has(field) && !row.get(field).isNull();
    }

    private static void integer(Option option, ObjIntConsumer<SamplingParams.Builder> setter) {
        SAMPLING_FIELDS.put(option, (b, v) -> setter.accept(b, intValue(option.snakeName(), v)));
    }

    private static void number(Option option, ObjDoubleConsumer<SamplingParams.Builder> setter) {
        SAMPLING_FIELDS.put(option, (b, v) -> {
            if (!v.isNumber()) {
                throw typeError(option.snakeName(), "a number", v);
            }
            setter.accept(b, v.doubleValue());
        });
    }

    /** Integers, also when written as an integral float ({@code 64.0}, as pandas writes int columns with nulls). */
    private static long longValue(String name, JsonNode v) {
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.longValue();
        }
        if (v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0 && v.canConvertToLong()) {
            return v.decimalValue().longValueExact();
        }
        throw typeError(name, "an integer", v);
    }

    private static int intValue(String name, JsonNode v) {
        long l = longValue(name, v);
        if (l != (int) l) {
            throw new FieldException(name + " is out of range: " + v);
        }
        return (int) l;
    }

    private static boolean bool(String name, JsonNode v) {
        if (!v.isBoolean()) {
            throw typeError(name, "true or false", v);
        }
        return v.booleanValue();
    }

    /** transformers' values: {@code true}, {@code false} or {@code "never"}. */
    private static EarlyStopping earlyStopping(JsonNode v) {
        if (v.isBoolean()) {
            return v.booleanValue() ? EarlyStopping.TRUE : EarlyStopping.FALSE;
        }
        if (v.isTextual() && v.textValue().equals("never")) {
            return EarlyStopping.NEVER;
        }
        throw typeError("early_stopping", "true, false or \"never\"", v);
    }

    private static List<Integer> integers(String name, JsonNode v) {
        if (!v.isArray()) {
            throw typeError(name, "a list of integers", v);
        }
        List<Integer> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            out.add(intValue(name + "[" + i + "]", v.get(i)));
        }
        return out;
    }

    private static List<String> strings(String name, JsonNode v) {
        if (!v.isArray()) {
            throw typeError(name, "a string or a list of strings", v);
        }
        List<String> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw typeError(name + "[" + i + "]", "a string", v.get(i));
            }
            out.add(v.get(i).textValue());
        }
        return out;
    }

    private static FieldException typeError(String name, String expected, JsonNode got) {
        String shown = got.toString();
        return new FieldException(name + " must be " + expected + ", got "
                + (shown.length() > 40 ? shown.substring(0, 37) + "..." : shown));
    }

    /** A field with the wrong type or shape; the message names the field. */
    private static final class FieldException extends RuntimeException {
        FieldException(String message) {
            super(message, null, false, false);
        }
    }
}
