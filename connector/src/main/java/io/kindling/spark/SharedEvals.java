package io.kindling.spark;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.RepartitionByExpression;
import scala.Option;

/**
 * An {@link LlmEval} that occurs twice in one plan (a self-join or a union of one result) would run the model twice
 * for each row: Spark shares work between identical subtrees only at exchanges. So each occurrence gets a round-robin
 * exchange on top; Spark's exchange reuse then runs one of them and lets the others read its shuffle output.
 */
final class SharedEvals {

    private SharedEvals() {
    }

    static LogicalPlan apply(LogicalPlan plan) {
        Map<LogicalPlan, Integer> occurrences = new HashMap<>();
        plan.foreach(node -> {
            if (node instanceof LlmEval) {
                occurrences.merge(node.canonicalized(), 1, Integer::sum);
            }
            return scala.runtime.BoxedUnit.UNIT;
        });
        if (occurrences.values().stream().allMatch(n -> n == 1)) {
            return plan;
        }
        return share(plan, occurrences);
    }

    /** Wraps the outermost repeated evals; what they hold is shared with them. */
    private static LogicalPlan share(LogicalPlan node, Map<LogicalPlan, Integer> occurrences) {
        if (node instanceof RepartitionByExpression r && r.partitionExpressions().isEmpty()
                && r.child() instanceof LlmEval) {
            return node; // shared already (the rule runs again on re-optimized plans)
        }
        if (node instanceof LlmEval && occurrences.get(node.canonicalized()) > 1) {
            return new RepartitionByExpression(ScalaSeqs.seq(List.of()), node, Option.empty(), Option.empty());
        }
        return node.withNewChildren(ScalaSeqs.seq(ScalaSeqs.list(node.children()).stream()
                .map(child -> share(child, occurrences)).toList()));
    }
}
