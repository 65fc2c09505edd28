package io.kindling.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.GlobalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LocalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.plans.logical.Sort;
import scala.PartialFunction;

/**
 * Moves the {@code llm_generate} columns of a projection above the sorts, limits and filters over it that do not read
 * them, so the model runs only for the rows those keep: {@code SELECT id, llm_generate(p) FROM t ORDER BY id LIMIT 5}
 * generates 5 rows, and {@code ORDER BY id} alone generates after the sort's shuffle rather than before it (where the
 * range partitioner's sampling pass would run the model a second time).
 *
 * <p>The optimizer puts projections under sorts and limits (SQL computes the select list before {@code ORDER BY});
 * for Spark's own expressions that is free, for a model call it is the whole cost.
 */
final class DeferLlmCalls {

    private DeferLlmCalls() {
    }

    static LogicalPlan apply(LogicalPlan plan) {
        return plan.transformUp(PartialFunction.fromFunction(DeferLlmCalls::pullUp));
    }

    /** {@code node(Project(list, c))} as {@code Project(list', node(Project(rest, c)))} when some calls can move. */
    private static LogicalPlan pullUp(LogicalPlan node) {
        if (!(node instanceof Sort || node instanceof LocalLimit || node instanceof GlobalLimit
                || node instanceof Filter)
                || !(node.children().head() instanceof Project project) || !LlmCalls.any(project.expressions())) {
            return node;
        }
        AttributeSet read = node.references();
        List<NamedExpression> moved = new ArrayList<>();
        List<NamedExpression> below = new ArrayList<>();
        for (NamedExpression e : ScalaSeqs.list(project.projectList())) {
            if (LlmCalls.contains((Expression) e) && !read.contains(e.toAttribute())) {
                moved.add(e);
            } else {
                below.add(e);
            }
        }
        if (moved.isEmpty()) {
            return node;
        }
        // What stays, plus the columns the moved calls read.
        List<Attribute> belowOutput = new ArrayList<>(below.stream().map(NamedExpression::toAttribute).toList());
        for (NamedExpression call : moved) {
            for (Attribute a : ScalaSeqs.list(((Expression) call).references().toSeq())) {
                if (belowOutput.stream().noneMatch(b -> b.semanticEquals(a))) {
                    below.add(a);
                    belowOutput.add(a);
                }
            }
        }
        LogicalPlan input = project.child();
        LogicalPlan kept = ScalaSeqs.seq(belowOutput).equals(input.output()) ? input
                : new Project(ScalaSeqs.seq(below), input);
        List<NamedExpression> above = new ArrayList<>();
        for (NamedExpression e : ScalaSeqs.list(project.projectList())) {
            above.add(moved.contains(e) ? e : e.toAttribute());
        }
        return new Project(ScalaSeqs.seq(above), node.withNewChildren(ScalaSeqs.seq(List.of(kept))));
    }
}
