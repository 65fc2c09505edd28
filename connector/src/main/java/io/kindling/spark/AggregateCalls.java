package io.kindling.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import scala.Option;
import scala.PartialFunction;

/**
 * Calls in an aggregate's output list that read its results ({@code llm_generate(max(p))}) or its grouping keys
 * ({@code SELECT k, llm_generate(k) ... GROUP BY k}): they run once per group, in a Project above the aggregate.
 * Calls inside aggregate functions' inputs stay, and run below it.
 */
final class AggregateCalls {

    private AggregateCalls() {
    }

    static boolean anyOverResults(Aggregate agg) {
        return ScalaSeqs.list(agg.aggregateExpressions()).stream().anyMatch(e -> overResults((Expression) e, agg));
    }

    private static boolean overResults(Expression e, Aggregate agg) {
        return LlmCalls.all(ScalaSeqs.seq(List.of(e))).stream()
                .anyMatch(call -> call.references().isEmpty() || call.exists(x -> isResult(x, agg)));
    }

    private static boolean isResult(Expression e, Aggregate agg) {
        return e instanceof AggregateExpression
                || ScalaSeqs.list(agg.groupingExpressions()).stream().anyMatch(g -> g.semanticEquals(e));
    }

    /** {@code Project(output, Aggregate')} where the aggregate computes what the moved expressions read. */
    static Project pullUp(Aggregate agg) {
        List<NamedExpression> above = new ArrayList<>();
        List<NamedExpression> aggregates = new ArrayList<>();
        for (NamedExpression e : ScalaSeqs.list(agg.aggregateExpressions())) {
            if (overResults((Expression) e, agg)) {
                above.add((NamedExpression) ((Expression) e).transformDown(PartialFunction.fromFunction(x -> {
                    if (!isResult(x, agg)) {
                        return x;
                    }
                    NamedExpression computed = x instanceof NamedExpression n ? n
                            : new Alias(x, "agg", NamedExpression.newExprId(), ScalaSeqs.seq(List.of()),
                                    Option.empty(), ScalaSeqs.seq(List.of()));
                    aggregates.add(computed);
                    return computed.toAttribute();
                })));
            } else {
                aggregates.add(e);
                above.add(e.toAttribute());
            }
        }
        return new Project(ScalaSeqs.seq(above), agg.copy(agg.groupingExpressions(), ScalaSeqs.seq(aggregates),
                agg.child(), agg.hint()));
    }
}
