package io.kindling.flink;

import io.kindling.core.CompletionOutput;
import io.kindling.core.RequestOutput;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;

/**
 * What a Kindling model's OUTPUT columns hold, by name: one STRING column of any other name is the generated text
 * (the first completion: the best beam, or the first sample); {@code error}, {@code finish_reason} (STRING),
 * {@code prompt_tokens} and {@code completion_tokens} (INT) are optional; {@code choices} lists every completion, as
 * {@code ARRAY<STRING>} or {@code ARRAY<ROW<text STRING, finish_reason STRING, cumulative_logprob DOUBLE,
 * completion_tokens INT>>}, for {@code n} > 1 or beam search.
 */
record OutputLayout(List<Field> fields) implements Serializable {

    enum Field {
        TEXT, ERROR, FINISH_REASON, PROMPT_TOKENS, COMPLETION_TOKENS, CHOICE_TEXTS, CHOICE_ROWS
    }

    static final List<String> CHOICE_FIELDS = List.of("text", "finish_reason", "cumulative_logprob",
            "completion_tokens");

    /**
     * @throws InvalidKindlingOptionException naming the column that Kindling cannot fill
     */
    static OutputLayout of(ResolvedSchema output) {
        List<Field> fields = new ArrayList<>();
        for (Column c : output.getColumns()) {
            fields.add(field(c.getName(), c.getDataType().getLogicalType()));
        }
        if (fields.stream().filter(f -> f == Field.TEXT).count() != 1) {
            throw new InvalidKindlingOptionException("a kindling model's OUTPUT needs exactly one STRING column for "
                    + "the generated text besides error and finish_reason, got " + output.getColumns());
        }
        return new OutputLayout(List.copyOf(fields));
    }

    private static Field field(String name, LogicalType type) {
        boolean string = type.is(LogicalTypeFamily.CHARACTER_STRING);
        boolean integer = type.is(LogicalTypeRoot.INTEGER);
        Field f = switch (name.toLowerCase(Locale.ROOT)) {
            case "error" -> string ? Field.ERROR : null;
            case "finish_reason" -> string ? Field.FINISH_REASON : null;
            case "prompt_tokens" -> integer ? Field.PROMPT_TOKENS : null;
            case "completion_tokens" -> integer ? Field.COMPLETION_TOKENS : null;
            case "choices" -> choices(type);
            default -> string ? Field.TEXT : null;
        };
        if (f == null) {
            throw new InvalidKindlingOptionException("a kindling model cannot fill OUTPUT column " + name + " "
                    + type + ": the text is a STRING column, error and finish_reason are STRING, prompt_tokens and "
                    + "completion_tokens INT, choices ARRAY<STRING> or ARRAY<ROW<text STRING, finish_reason STRING, "
                    + "cumulative_logprob DOUBLE, completion_tokens INT>>");
        }
        return f;
    }

    private static Field choices(LogicalType type) {
        if (!(type instanceof ArrayType array)) {
            return null;
        }
        LogicalType element = array.getElementType();
        if (element.is(LogicalTypeFamily.CHARACTER_STRING)) {
            return Field.CHOICE_TEXTS;
        }
        return element instanceof RowType row && row.getFieldNames().equals(CHOICE_FIELDS)
                && row.getTypeAt(0).is(LogicalTypeFamily.CHARACTER_STRING)
                && row.getTypeAt(1).is(LogicalTypeFamily.CHARACTER_STRING)
                && row.getTypeAt(2).is(LogicalTypeRoot.DOUBLE)
                && row.getTypeAt(3).is(LogicalTypeRoot.INTEGER) ? Field.CHOICE_ROWS : null;
    }

    boolean hasError() {
        return fields.contains(Field.ERROR);
    }

    /** The row of a null prompt: every column null. */
    RowData nullRow() {
        return new GenericRowData(fields.size());
    }

    /** The row of a result; a failed one has null text and its message in {@code error}. */
    RowData row(RowResult r) {
        GenericRowData row = new GenericRowData(fields.size());
        RequestOutput out = r.output();
        CompletionOutput first = out == null ? null : out.completion();
        for (int i = 0; i < fields.size(); i++) {
            row.setField(i, switch (fields.get(i)) {
                case TEXT -> r.failed() ? null : StringData.fromString(first.text());
                case ERROR -> r.failed() ? StringData.fromString(r.problem()) : null;
                case FINISH_REASON -> StringData.fromString(r.failed() ? "error" : first.finishReason().wireName());
                case PROMPT_TOKENS -> r.promptTokens();
                case COMPLETION_TOKENS -> first == null ? 0 : first.tokenIds().length;
                case CHOICE_TEXTS -> r.failed() ? null : new GenericArrayData(out.completions().stream()
                        .map(c -> StringData.fromString(c.text())).toArray());
                case CHOICE_ROWS -> r.failed() ? null : new GenericArrayData(out.completions().stream()
                        .map(OutputLayout::choice).toArray());
            });
        }
        return row;
    }

    private static RowData choice(CompletionOutput c) {
        return GenericRowData.of(StringData.fromString(c.text()), StringData.fromString(c.finishReason().wireName()),
                c.cumulativeLogprob().isPresent() ? c.cumulativeLogprob().getAsDouble() : null, c.tokenIds().length);
    }
}
