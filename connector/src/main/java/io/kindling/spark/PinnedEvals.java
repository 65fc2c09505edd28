package io.kindling.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.SortOrder;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.GlobalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LocalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.plans.logical.RepartitionByExpression;
import org.apache.spark.sql.catalyst.plans.logical.Sort;
import org.apache.spark.sql.catalyst.plans.logical.SubqueryAlias;
import scala.Option;

/**
 * The {@link LlmEval}s that must stay below a sort, filter or repartitioning because it reads their results
 * ({@code ORDER BY} the generated text): each gets a note that {@code EXPLAIN} shows, naming the operator. When that
 * operator partitions by range (a global sort, {@code repartitionByRange}), Spark samples its input in a job of its
 * own before the shuffle, which would run the model twice for every row; a round-robin exchange under it makes the
 * sampling pass read the first shuffle's output instead.
 */
final class PinnedEvals {

    private PinnedEvals() {
    }

    static LogicalPlan apply(LogicalPlan plan) {
        return visit(plan, false);
    }

    private static LogicalPlan visit(LogicalPlan node, boolean underLimit) {
        boolean limit = node instanceof GlobalLimit || node instanceof LocalLimit;
        List<LogicalPlan> children = new ArrayList<>();
        for (LogicalPlan child : ScalaSeqs.list(node.children())) {
            children.add(visit(child, limit));
        }
        LogicalPlan visited = node.withNewChildren(ScalaSeqs.seq(children));
        String reader = readerOf(visited);
        if (reader == null || children.size() != 1) {
            return visited;
        }
        LogicalPlan child = children.get(0);
        AttributeSet read = visited.references();
        if (!read.intersect(generated(child)).isEmpty()) {
            // A sort under a limit is planned as a top-K (TakeOrderedAndProject): no range partitioner there.
            boolean ranged = rangePartitions(visited) && !underLimit;
            String note = "evaluated below " + visited.nodeName() + ", whose " + reader + " reads its result"
                    + (ranged ? "; a round-robin exchange under the range partitioning keeps its sampling pass from "
                    + "running the model again" : "");
            LogicalPlan marked = mark(child, read, note);
            return visited.withNewChildren(ScalaSeqs.seq(List.of(ranged ? roundRobin(marked) : marked)));
        }
        return visited;
    }

    /** What part of a row-selecting or row-ordering operator reads columns; null for other operators. */
    private static String readerOf(LogicalPlan node) {
        if (node instanceof Sort) {
            return "order";
        }
        if (node instanceof Filter) {
            return "condition";
        }
        if (node instanceof RepartitionByExpression) {
            return "partitioning";
        }
        return null;
    }

    private static boolean rangePartitions(LogicalPlan node) {
        if (node instanceof Sort sort) {
            return sort.global();
        }
        return node instanceof RepartitionByExpression r
                && ScalaSeqs.list(r.partitionExpressions()).stream().anyMatch(e -> e instanceof SortOrder);
    }

    private static LogicalPlan roundRobin(LogicalPlan child) {
        return new RepartitionByExpression(ScalaSeqs.seq(List.of()), child, Option.empty(), Option.empty());
    }

    /**
     * The columns of {@code plan}'s output that hold model results or values computed from them, through the
     * operators that pass rows on as they are (projections, filters, sorts, limits).
     */
    private static AttributeSet generated(LogicalPlan plan) {
        if (plan instanceof LlmEval eval) {
            return generated(eval.child()).$plus$plus(ScalaSeqs.attributeSet(eval.resultAttrs()));
        }
        if (plan instanceof Project project) {
            AttributeSet below = generated(project.child());
            List<Attribute> out = new ArrayList<>();
            for (NamedExpression e : ScalaSeqs.list(project.projectList())) {
                if (!((Expression) e).references().intersect(below).isEmpty()) {
                    out.add(e.toAttribute());
                }
            }
            return ScalaSeqs.attributeSet(ScalaSeqs.seq(out));
        }
        if (passesRowsOn(plan)) {
            return generated(plan.children().head());
        }
        return ScalaSeqs.attributeSet(ScalaSeqs.<Attribute>seq(List.of()));
    }

    /**
     * Notes {@code note} on the {@link LlmEval}s whose results {@code read} needs, following the columns down
     * through the same operators as {@link #generated}.
     */
    private static LogicalPlan mark(LogicalPlan plan, AttributeSet read, String note) {
        if (plan instanceof LlmEval eval) {
            LogicalPlan child = mark(eval.child(), read, note);
            boolean needed = !read.intersect(ScalaSeqs.attributeSet(eval.resultAttrs())).isEmpty();
            return new LlmEval(eval.calls(), eval.resultAttrs(), child, needed ? Option.apply(note) : eval.note());
        }
        if (plan instanceof Project project) {
            AttributeSet needed = read;
            for (NamedExpression e : ScalaSeqs.list(project.projectList())) {
                if (read.contains(e.toAttribute())) {
                    needed = needed.$plus$plus(((Expression) e).references());
                }
            }
            return project.withNewChildren(ScalaSeqs.seq(List.of(mark(project.child(), needed, note))));
        }
        if (passesRowsOn(plan)) {
            return plan.withNewChildren(ScalaSeqs.seq(List.of(mark(plan.children().head(), read, note))));
        }
        return plan;
    }

    private static boolean passesRowsOn(LogicalPlan plan) {
        return plan instanceof Filter || plan instanceof Sort || plan instanceof LocalLimit
                || plan instanceof GlobalLimit || plan instanceof SubqueryAlias;
    }
}
