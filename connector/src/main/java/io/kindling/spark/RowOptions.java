package io.kindling.spark;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.Cast;
import org.apache.spark.sql.catalyst.expressions.CreateMap;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StringType;

/**
 * The options argument of {@code llm_generate} split in two: the literal entries, resolved once at analysis, and the
 * entries whose value is a column ({@code map('temperature', '0', 'max_tokens', max_tokens)}), which each row gives
 * anew, as a JSONL row does for {@code kindling generate}. A whole map column is read row by row too.
 *
 * @param literal the call's options known now
 * @param perRow a map of strings each row evaluates, or null when every option is literal
 */
record RowOptions(Map<String, String> literal, Expression perRow) {

    static RowOptions of(String name, Expression arg) {
        if (arg.foldable()) {
            return new RowOptions(LlmGenerate.optionsMap(name, arg), null);
        }
        if (!(arg.dataType() instanceof MapType type) || !(type.keyType() instanceof StringType)) {
            throw LlmErrors.analysis(name + ": the options must be a map with string keys, such as "
                    + "map('maxTokens', '64', 'temperature', '0') or map('max_tokens', a_column), got " + arg.sql());
        }
        if (!(arg instanceof CreateMap map)) {
            return new RowOptions(Map.of(), arg); // a map column: its keys are checked row by row
        }
        List<Expression> keys = ScalaSeqs.list(map.keys());
        List<Expression> values = ScalaSeqs.list(map.values());
        Map<String, String> literal = new LinkedHashMap<>();
        List<Expression> perRow = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            Expression key = keys.get(i);
            if (!key.foldable()) {
                throw LlmErrors.analysis(name + ": option names must be literals, got " + key.sql());
            }
            String k = String.valueOf(key.eval(null));
            // map() gives its values one type: ('temperature', '0', 'max_tokens', mt) casts '0' to mt's type, which
            // fails for 'true'; each value is read as it was written
            Expression value = values.get(i) instanceof Cast cast ? cast.child() : values.get(i);
            if (value.foldable()) {
                Object v = value.eval(null);
                literal.put(k, v == null ? null : v.toString());
                continue;
            }
            Option o = LlmOption.named(k).orElseThrow(() -> LlmErrors.analysis(name + ": unknown option '" + k
                    + "'"));
            if (!LlmOptions.perRow(o)) {
                throw LlmErrors.analysis(name + ": option '" + k + "' must be a literal: " + (o.in(FrontEnd.ROW)
                        ? "it shapes the call's output (n and beam search)"
                        : "it applies to the whole call or engine") + ", got " + value.sql());
            }
            perRow.add(key);
            // each value a string on its own (a common type of int and double would write max_tokens 7 as "7.0")
            perRow.add(new Cast(value, DataTypes.StringType, scala.Option.empty()));
        }
        return new RowOptions(literal, perRow.isEmpty() ? null : new CreateMap(ScalaSeqs.seq(perRow), false));
    }
}
