package io.kindling.spark;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.LambdaFunction;
import org.apache.spark.sql.catalyst.expressions.NamedLambdaVariable;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Rejects, at analysis, the {@code llm_generate} calls that {@link ExtractLlmCalls} cannot move into an
 * {@link LlmEval}: calls reading a lambda's variable (inside {@code transform}, {@code filter}, ...), and calls
 * reading columns of several inputs at once (a join condition over both sides).
 */
final class LlmPlacementCheck extends AbstractFunction1<LogicalPlan, BoxedUnit> {

    @Override
    public BoxedUnit apply(LogicalPlan plan) {
        plan.foreach(node -> {
            check(node);
            for (LogicalPlan subquery : ScalaSeqs.list(node.subqueries())) {
                apply(subquery);
            }
            return BoxedUnit.UNIT;
        });
        return BoxedUnit.UNIT;
    }

    private static void check(LogicalPlan node) {
        if (node instanceof LlmEval || !LlmCalls.any(node.expressions())) {
            return;
        }
        for (Expression e : ScalaSeqs.list(node.expressions())) {
            e.foreach(x -> {
                if (x instanceof LambdaFunction lambda) {
                    for (LlmGenerate call : LlmCalls.all(ScalaSeqs.seq(List.of(lambda.function())))) {
                        if (call.exists(v -> v instanceof NamedLambdaVariable)) {
                            throw LlmErrors.analysis(call.prettyName() + " cannot run inside a lambda function "
                                    + "(transform, filter, aggregate, ...) on its variable: " + call.sql()
                                    + ". Explode the array, call it on the rows, and collect the results again.");
                        }
                    }
                }
                return BoxedUnit.UNIT;
            });
        }
        List<LogicalPlan> inputs = ScalaSeqs.list(node.children());
        for (LlmGenerate call : LlmCalls.all(node.expressions())) {
            if (call.exists(v -> v instanceof NamedLambdaVariable)) {
                continue;
            }
            if (inputs.stream().noneMatch(child -> call.references().subsetOf(child.outputSet()))) {
                String columns = ScalaSeqs.list(call.references().toSeq()).stream()
                        .map(Expression::sql).collect(Collectors.joining(", "));
                throw LlmErrors.analysis(call.prettyName() + " in " + node.nodeName() + " reads columns of "
                        + (inputs.size() > 1 ? "several inputs" : "no input") + " (" + columns + "): " + call.sql()
                        + ". Compute it on one input first, or on the " + node.nodeName() + "'s result.");
            }
        }
    }
}
