package io.kindling.spark;

import java.util.List;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.SparkStrategy;

/** Plans {@link LlmEval} as {@link LlmEvalExec}. */
final class LlmEvalStrategy extends SparkStrategy {

    @Override
    public scala.collection.immutable.Seq<SparkPlan> apply(LogicalPlan plan) {
        if (plan instanceof LlmEval eval) {
            return ScalaSeqs.seq(List.of(new LlmEvalExec(eval.calls(), eval.resultAttrs(), planLater(eval.child()),
                    eval.note())));
        }
        return ScalaSeqs.seq(List.of());
    }
}
