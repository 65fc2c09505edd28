package io.kindling.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.GlobalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LocalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.plans.logical.RebalancePartitions;
import org.apache.spark.sql.catalyst.plans.logical.RepartitionOperation;
import org.apache.spark.sql.catalyst.plans.logical.Sort;

/**
 * Finds a call already computed further down the same rows. The optimizer pushes a filter on a generated column
 * below the projection that generates it ({@code SELECT * FROM (SELECT llm_generate(p) AS o ...) WHERE o LIKE ...}),
 * leaving the call in both places; the upper one then reads the lower one's column instead of asking again.
 */
final class ResultReuse {

    /** {@code plan} rewritten to expose {@code result} in its output. */
    record Exposed(LogicalPlan plan, Attribute result) {
    }

    private ResultReuse() {
    }

    /**
     * The result column of an {@link LlmEval} in {@code plan} computing {@code call}, made to flow up to
     * {@code plan}'s output; null when there is none on a path of operators that keep each row as it is (filters,
     * sorts, repartitions, limits, projections).
     */
    static Exposed find(LogicalPlan plan, LlmGenerate call) {
        if (plan instanceof LlmEval eval) {
            List<org.apache.spark.sql.catalyst.expressions.Expression> calls = ScalaSeqs.list(eval.calls());
            for (int i = 0; i < calls.size(); i++) {
                if (calls.get(i).semanticEquals(call)) {
                    return new Exposed(eval, ScalaSeqs.list(eval.resultAttrs()).get(i));
                }
            }
            return below(eval, call);
        }
        if (plan instanceof Project project) {
            Exposed inner = find(project.child(), call);
            if (inner == null) {
                return null;
            }
            List<NamedExpression> list = new ArrayList<>(ScalaSeqs.list(project.projectList()));
            list.add(inner.result());
            return new Exposed(new Project(ScalaSeqs.seq(list), inner.plan()), inner.result());
        }
        if (plan instanceof Filter || plan instanceof Sort || plan instanceof RepartitionOperation
                || plan instanceof RebalancePartitions || plan instanceof LocalLimit || plan instanceof GlobalLimit) {
            return below(plan, call);
        }
        return null;
    }

    /** Through a node whose output is its child's output. */
    private static Exposed below(LogicalPlan node, LlmGenerate call) {
        Exposed inner = find(node.children().head(), call);
        return inner == null ? null
                : new Exposed(node.withNewChildren(ScalaSeqs.seq(List.of(inner.plan()))), inner.result());
    }
}
