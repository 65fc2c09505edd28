package io.kindling.spark;

import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.SparkSessionExtensionsProvider;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import scala.Tuple3;
import scala.runtime.BoxedUnit;

/**
 * {@code spark.sql.extensions=io.kindling.spark.KindlingExtensions}: the functions {@code llm_generate},
 * {@code llm_generate_struct} and {@code llm_extract}, the rule that binds their key columns, the rule that moves
 * their calls into {@link LlmEval} nodes, the strategy that plans those, the check that rejects calls that cannot
 * move, and the listener that stops a stage on a row error no retry can fix.
 */
public final class KindlingExtensions implements SparkSessionExtensionsProvider {

    static final String USAGE_OPTIONS = "options: a literal map of strings such as map('maxTokens', '64', "
            + "'temperature', '0'), overriding the session's spark.kindling.* settings";

    @Override
    public BoxedUnit apply(SparkSessionExtensions extensions) {
        extensions.injectFunction(function("llm_generate", false,
                "_FUNC_(prompt[, options]) - The model's completion of the prompt (null for a null prompt); "
                        + USAGE_OPTIONS + "."));
        extensions.injectFunction(function("llm_generate_struct", true,
                "_FUNC_(prompt[, options]) - The completion with its details: struct<text, finish_reason, "
                        + "prompt_tokens, completion_tokens, error, choices> (choices: every sample or beam, for n "
                        + "or beamWidth > 1); " + USAGE_OPTIONS + "."));
        extensions.injectFunction(new Tuple3<>(FunctionIdentifier.apply(LlmExtract.NAME),
                new ExpressionInfo(LlmExtract.class.getName(), null, LlmExtract.NAME,
                        "_FUNC_(prompt, schema[, options]) - The completion as a struct of the schema (DDL such as "
                                + "'name STRING, price DECIMAL(10,2), tags ARRAY<STRING>', or a struct type's JSON), "
                                + "generated under the JSON schema derived from it, so every row parses; "
                                + USAGE_OPTIONS + ".", ""),
                LlmExtract::create));
        extensions.injectResolutionRule(session -> new ResolveLlmKeys());
        extensions.injectPreCBORule(session -> new ExtractLlmCalls());
        extensions.injectPlannerStrategy(session -> new LlmEvalStrategy());
        extensions.injectCheckRule(session -> {
            // Built once per session, on the driver: where a failed task's row error can stop its stage.
            RowErrorStop.watch(session.sparkContext());
            return new LlmPlacementCheck();
        });
        return BoxedUnit.UNIT;
    }

    private static Tuple3<FunctionIdentifier, ExpressionInfo,
            scala.Function1<scala.collection.immutable.Seq<org.apache.spark.sql.catalyst.expressions.Expression>,
                    org.apache.spark.sql.catalyst.expressions.Expression>> function(String name, boolean struct,
                                                                                   String usage) {
        return new Tuple3<>(FunctionIdentifier.apply(name),
                new ExpressionInfo(LlmGenerate.class.getName(), null, name, usage, ""),
                args -> LlmGenerate.create(args, struct));
    }
}
