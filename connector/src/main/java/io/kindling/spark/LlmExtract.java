package io.kindling.spark;

import io.kindling.options.Option;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry$;
import org.apache.spark.sql.catalyst.expressions.CreateMap;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * {@code llm_extract(prompt, schema[, options])}: the completion of a prompt as a struct of {@code schema} (DDL such
 * as {@code 'name STRING, price DECIMAL(10,2)'}, or a struct type's JSON, which keeps field metadata such as
 * {@code enum}). The schema becomes a JSON schema ({@link SparkJsonSchema}) that constrains the generation, so every
 * completion is a document of it, and Spark's own {@code from_json} (FAILFAST) parses it into the struct: the call is
 * {@code from_json(llm_generate(prompt, options + responseFormat), schema)}, so it runs, batches and fails per row as
 * {@code llm_generate} does.
 */
final class LlmExtract {

    static final String NAME = "llm_extract";

    private LlmExtract() {
    }

    static Expression create(scala.collection.immutable.Seq<Expression> args) {
        List<Expression> list = ScalaSeqs.list(args);
        if (list.size() < 2 || list.size() > 3) {
            throw LlmErrors.analysis(NAME + " takes a prompt, a schema and an optional map of options, got "
                    + list.size() + " arguments");
        }
        StructType type = schema(list.get(1));
        String jsonSchema;
        try {
            jsonSchema = SparkJsonSchema.of(type);
        } catch (IllegalArgumentException e) {
            throw LlmErrors.analysis(NAME + ": " + e.getMessage());
        }
        RowOptions given = list.size() == 3 ? RowOptions.of(NAME, list.get(2)) : new RowOptions(Map.of(), null);
        Map<String, String> call = new LinkedHashMap<>(given.literal());
        for (String key : call.keySet()) {
            if (LlmOption.named(key).filter(o -> o == Option.RESPONSE_FORMAT
                    || o == Option.GUIDED_REGEX
                    || o == Option.GUIDED_CHOICE).isPresent()) {
                throw LlmErrors.analysis(NAME + ": option '" + key + "' does not apply: the schema is the "
                        + "constraint");
            }
        }
        call.put(LlmOption.camelName(Option.RESPONSE_FORMAT), jsonSchema);
        LlmGenerate generate = LlmGenerate.create(NAME, list.get(0), new RowOptions(call, given.perRow()), false);
        Expression mode = new CreateMap(ScalaSeqs.seq(List.<Expression>of(Literal.create("mode", DataTypes.StringType),
                Literal.create("FAILFAST", DataTypes.StringType))), false);
        return (Expression) FunctionRegistry$.MODULE$.builtin()
                .lookupFunctionBuilder(FunctionIdentifier.apply("from_json")).get()
                .apply(ScalaSeqs.seq(List.<Expression>of(generate, Literal.create(type.json(), DataTypes.StringType),
                        mode)));
    }

    private static StructType schema(Expression arg) {
        if (!arg.foldable() || !(arg.dataType() instanceof StringType)) {
            throw LlmErrors.analysis(NAME + ": the schema must be a literal string such as 'name STRING, tags "
                    + "ARRAY<STRING>', got " + arg.sql());
        }
        Object value = arg.eval(null);
        String text = value == null ? "" : value.toString().trim();
        DataType type;
        try {
            type = text.startsWith("{") ? DataType.fromJson(text) : StructType.fromDDL(text);
        } catch (Exception e) { // Spark's parse errors are AnalysisExceptions, which Java sees as checked
            throw LlmErrors.analysis(NAME + ": cannot read the schema '" + text + "': " + e.getMessage());
        }
        if (type instanceof StructType struct && struct.fields().length > 0) {
            return struct;
        }
        throw LlmErrors.analysis(NAME + ": the schema must be a struct with fields, got " + type.simpleString());
    }
}
