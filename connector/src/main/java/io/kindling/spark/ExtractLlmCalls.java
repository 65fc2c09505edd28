package io.kindling.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.types.Metadata;
import scala.Option;
import scala.PartialFunction;

/**
 * Moves every {@code llm_generate} call out of the operator that holds it into an {@link LlmEval} under it, as Spark's
 * {@code ExtractPythonUDFs} does for Python UDFs: the operator then reads the call's result column. Nested calls
 * become stacked {@code LlmEval}s (the inner one runs first); the calls of one operator over one input share one
 * {@code LlmEval}; an operator whose output would change (a Filter, a Join) gets a Project on top that restores it.
 * Calls over an aggregate's results or grouping keys first move into a Project above the aggregate.
 *
 * <p>Runs once, after the operator optimizations (a pre-CBO rule), so no later rule moves the calls around. Before
 * extracting, {@link DeferLlmCalls} lifts calls above the sorts, limits and filters that do not need them; after,
 * {@link PinnedEvals} explains (and guards) those that had to stay below, and {@link SharedEvals} makes one
 * result used twice run once.
 */
final class ExtractLlmCalls extends Rule<LogicalPlan> {

    @Override
    public LogicalPlan apply(LogicalPlan plan) {
        LogicalPlan extracted = DeferLlmCalls.apply(plan).transformUp(PartialFunction.fromFunction(
                ExtractLlmCalls::rewrite));
        return SharedEvals.apply(PinnedEvals.apply(extracted));
    }

    private static LogicalPlan rewrite(LogicalPlan node) {
        if (node instanceof LlmEval || !LlmCalls.any(node.expressions())) {
            return node;
        }
        if (node instanceof Aggregate agg && AggregateCalls.anyOverResults(agg)) {
            Project above = AggregateCalls.pullUp(agg);
            return extract(above.withNewChildren(ScalaSeqs.seq(List.of(extract(above.child())))));
        }
        return extract(node);
    }

    /** Extracts the innermost calls of {@code node}, then recurses for the calls that held them. */
    private static LogicalPlan extract(LogicalPlan node) {
        List<LlmGenerate> calls = distinct(LlmCalls.innermost(node.expressions()));
        List<LlmGenerate> placed = new ArrayList<>();
        List<Attribute> results = new ArrayList<>();
        List<LogicalPlan> children = new ArrayList<>();
        for (LogicalPlan input : ScalaSeqs.list(node.children())) {
            LogicalPlan child = input;
            List<Expression> here = new ArrayList<>();
            List<Attribute> hereResults = new ArrayList<>();
            for (LlmGenerate call : calls) {
                if (placed.contains(call) || !call.references().subsetOf(child.outputSet())) {
                    continue;
                }
                ResultReuse.Exposed computed = ResultReuse.find(child, call);
                if (computed != null) {
                    child = computed.plan();
                    placed.add(call);
                    results.add(computed.result());
                } else {
                    Attribute result = new AttributeReference("llm_generate_" + results.size(), call.dataType(),
                            true, Metadata.empty(), NamedExpression.newExprId(), ScalaSeqs.seq(List.of()));
                    placed.add(call);
                    results.add(result);
                    here.add(call);
                    hereResults.add(result);
                }
            }
            children.add(here.isEmpty() ? child : new LlmEval(ScalaSeqs.seq(here), ScalaSeqs.seq(hereResults), child,
                    Option.empty()));
        }
        if (placed.isEmpty()) {
            // Calls reading several inputs cannot move; LlmPlacementCheck rejects them at analysis.
            return node;
        }
        LogicalPlan rewritten = node.withNewChildren(ScalaSeqs.seq(children))
                .transformExpressions(PartialFunction.fromFunction(e -> resultOf(e, placed, results)));
        rewritten = extract(rewritten);
        if (!rewritten.output().equals(node.output())) {
            rewritten = new Project(ScalaSeqs.upcast(node.output()), rewritten);
        }
        return rewritten;
    }

    private static Expression resultOf(Expression e, List<LlmGenerate> calls, List<Attribute> results) {
        if (e instanceof LlmGenerate) {
            for (int i = 0; i < calls.size(); i++) {
                if (calls.get(i).semanticEquals(e)) {
                    return results.get(i);
                }
            }
        }
        return e;
    }

    /** Identical calls (same prompt and options) run once: the function is deterministic. */
    private static List<LlmGenerate> distinct(List<LlmGenerate> calls) {
        List<LlmGenerate> out = new ArrayList<>();
        for (LlmGenerate c : calls) {
            if (out.stream().noneMatch(c::semanticEquals)) {
                out.add(c);
            }
        }
        return out;
    }
}
