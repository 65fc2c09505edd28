package io.kindling.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.analysis.TypeCheckResult;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ImplicitCastInputTypes;
import org.apache.spark.sql.catalyst.expressions.Unevaluable;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.AbstractDataType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import io.kindling.runtime.ModelLocationException;
import io.kindling.spark.runtime.ModelCheck;
import scala.Option;

/**
 * {@code llm_generate(prompt[, options])}: the completion of a prompt. A marker, never evaluated row by row:
 * {@link ExtractLlmCalls} moves every call into an {@link LlmEval} node, whose executor batches the rows.
 *
 * <p>{@link Unevaluable} keeps the optimizer from evaluating it while folding local data.
 *
 * <p>Deterministic as Catalyst means it: each row's sampler is seeded from the configured seed and the prompt only, so
 * the same prompt and options give the same output. That lets identical calls share one request, and allows calls
 * inside aggregate functions' inputs.
 */
public final class LlmGenerate extends Expression
        implements ImplicitCastInputTypes, Unevaluable, Serializable, NodeFields.Node {

    /** One completion of {@code llm_generate_struct}'s {@code choices}: a sample, or a beam. */
    public static final StructType CHOICE_TYPE = new StructType()
            .add("text", DataTypes.StringType)
            .add("finish_reason", DataTypes.StringType)
            .add("cumulative_logprob", DataTypes.DoubleType)
            .add("completion_tokens", DataTypes.IntegerType);

    /**
     * The type of {@code llm_generate_struct}. The top-level fields describe the first completion; {@code choices}
     * comes last so that the fields before it keep their positions.
     */
    public static final StructType STRUCT_TYPE = new StructType()
            .add("text", DataTypes.StringType)
            .add("finish_reason", DataTypes.StringType)
            .add("prompt_tokens", DataTypes.IntegerType)
            .add("completion_tokens", DataTypes.IntegerType)
            .add("error", DataTypes.StringType)
            .add("choices", DataTypes.createArrayType(CHOICE_TYPE, false));

    private final Expression prompt;
    private final Option<Expression> key;
    private final Option<Expression> rowOptions;
    private final LlmOptions options;
    private final boolean struct;
    private final scala.collection.immutable.Seq<Expression> children;

    /**
     * @param key the {@code keyColumn} that names the row in error messages: {@link LlmKeyColumn} until analysis
     *     binds it, then the column as a string, or null
     * @param rowOptions a map of strings each row evaluates, its own sampling options ({@link RowOptions})
     */
    public LlmGenerate(Expression prompt, Option<Expression> key, Option<Expression> rowOptions, LlmOptions options,
                       boolean struct) {
        this.prompt = prompt;
        this.key = key;
        this.rowOptions = rowOptions;
        this.options = options;
        this.struct = struct;
        List<Expression> children = new ArrayList<>(List.of(prompt));
        key.foreach(children::add);
        rowOptions.foreach(children::add);
        this.children = ScalaSeqs.seq(children);
    }

    /**
     * The function builder: the prompt, then an optional map of options. Its literal entries are resolved against the
     * session's {@code spark.kindling.*} settings now, at analysis; entries whose value is a column, each row's own.
     */
    static LlmGenerate create(scala.collection.immutable.Seq<Expression> args, boolean struct) {
        String name = struct ? "llm_generate_struct" : "llm_generate";
        List<Expression> list = ScalaSeqs.list(args);
        if (list.isEmpty() || list.size() > 2) {
            throw LlmErrors.analysis(name + " takes a prompt and an optional map of options, got "
                    + list.size() + " arguments");
        }
        return create(name, list.get(0), list.size() == 2 ? RowOptions.of(name, list.get(1))
                : new RowOptions(Map.of(), null), struct);
    }

    /**
     * A call of {@code name} (the function the user wrote) with its options, the literal ones resolved now, at
     * analysis.
     */
    static LlmGenerate create(String name, Expression prompt, RowOptions split, boolean struct) {
        Map<String, String> call = split.literal();
        SQLConf conf = SQLConf.get();
        LlmOptions options;
        try {
            // The struct has a field for a row's error; the plain function fails the task unless told otherwise.
            options = LlmOptions.resolve(k -> conf.getConfString(k, null), call,
                    struct ? LlmOptions.OnError.NULL : LlmOptions.OnError.FAIL);
        } catch (InvalidLlmOptionException e) {
            // named as the user called it: llm_extract builds its call here too
            throw LlmErrors.analysis(name + ": " + e.detail());
        }
        try {
            ModelCheck.onDriver(options.engine().model());
        } catch (ModelLocationException e) {
            throw LlmErrors.analysis(name + ": " + e.getMessage());
        }
        Option<Expression> key = options.keyColumn() == null ? Option.empty()
                : Option.apply(new LlmKeyColumn(options.keyColumn()));
        return new LlmGenerate(prompt, key, Option.apply(split.perRow()), options, struct);
    }

    static Map<String, String> optionsMap(String name, Expression arg) {
        if (!arg.foldable() || !(arg.dataType() instanceof MapType type)
                || !(type.keyType() instanceof StringType)) {
            throw LlmErrors.analysis(name + ": the options must be a literal map of strings, such as "
                    + "map('maxTokens', '64', 'temperature', '0'), got " + arg.sql());
        }
        MapData map = (MapData) arg.eval(null);
        Map<String, String> options = new LinkedHashMap<>();
        if (map != null) {
            for (int i = 0; i < map.numElements(); i++) {
                Object value = map.valueArray().get(i, type.valueType());
                options.put(map.keyArray().get(i, type.keyType()).toString(), value == null ? null : value.toString());
            }
        }
        return options;
    }

    public Expression prompt() {
        return prompt;
    }

    /** The key column as a string, once analysis bound it; empty when none is configured. */
    public Option<Expression> key() {
        return key;
    }

    /** Each row's own sampling options, a map of strings; empty when the call has none. */
    public Option<Expression> rowOptions() {
        return rowOptions;
    }

    public LlmOptions options() {
        return options;
    }

    public boolean struct() {
        return struct;
    }

    @Override
    public scala.collection.immutable.Seq<Expression> children() {
        return children;
    }

    @Override
    public DataType dataType() {
        return struct ? STRUCT_TYPE : DataTypes.StringType;
    }

    @Override
    public boolean nullable() {
        return true;
    }

    @Override
    public String prettyName() {
        return struct ? "llm_generate_struct" : "llm_generate";
    }

    @Override
    public scala.collection.immutable.Seq<AbstractDataType> inputTypes() {
        List<AbstractDataType> types = new ArrayList<>(List.of(DataTypes.StringType));
        key.foreach(k -> types.add(DataTypes.StringType));
        // values of other types (an int column for max_tokens) are cast to strings, parsed as the literal ones are
        rowOptions.foreach(r -> types.add(DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType)));
        return ScalaSeqs.seq(types);
    }

    @Override
    public TypeCheckResult checkInputDataTypes() {
        if (prompt.dataType() instanceof StringType) {
            return TypeCheckResult.TypeCheckSuccess$.MODULE$;
        }
        return new TypeCheckResult.TypeCheckFailure(prettyName() + " needs a string prompt, got "
                + prompt.dataType().simpleString() + " from " + prompt.sql());
    }

    /** Plans show the prompt and the sampling options set; the engine options would drown them. */
    @Override
    public scala.collection.Iterator<Object> stringArgs() {
        String sampling = options.describeSampling();
        return ScalaSeqs.<Object>seq(sampling.isEmpty() ? List.of(prompt) : List.of(prompt, sampling)).iterator();
    }

    @Override
    public Object eval(InternalRow input) {
        throw notExtracted();
    }

    @Override
    public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
        throw notExtracted();
    }

    private IllegalStateException notExtracted() {
        return new IllegalStateException(prettyName() + " was not moved into an LlmEval node, so it cannot run: is "
                + ExtractLlmCalls.class.getName() + " listed in spark.sql.optimizer.excludedRules, or is "
                + "spark.sql.extensions missing " + KindlingExtensions.class.getName() + "?");
    }

    @Override
    public Expression withNewChildrenInternal(scala.collection.immutable.IndexedSeq<Expression> newChildren) {
        int next = 1;
        Option<Expression> newKey = key.isDefined() ? Option.apply(newChildren.apply(next++)) : key;
        Option<Expression> newRowOptions = rowOptions.isDefined() ? Option.apply(newChildren.apply(next)) : rowOptions;
        return new LlmGenerate(newChildren.apply(0), newKey, newRowOptions, options, struct);
    }

    @Override
    public NodeFields fields() {
        return NodeFields.of(prompt, key, rowOptions, options, struct);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LlmGenerate o && fields().equals(o.fields());
    }
}
