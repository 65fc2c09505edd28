package io.kindling.spark;

import java.util.List;
import org.apache.spark.PartitionEvaluator;
import org.apache.spark.PartitionEvaluatorFactory;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;

/**
 * Ships what the tasks of an {@link LlmEvalExec} need (the prompts and key columns, the calls' options, the schemas,
 * the metrics) and nothing of the plan itself.
 */
final class LlmEvalEvaluatorFactory implements PartitionEvaluatorFactory<InternalRow, InternalRow> {

    private final scala.collection.immutable.Seq<Attribute> childOutput;
    private final scala.collection.immutable.Seq<Expression> prompts;
    private final List<LlmCallSpec> calls;
    private final scala.collection.immutable.Seq<Attribute> output;
    private final LlmMetrics metrics;

    LlmEvalEvaluatorFactory(scala.collection.immutable.Seq<Attribute> childOutput,
                            scala.collection.immutable.Seq<Expression> prompts, List<LlmCallSpec> calls,
                            scala.collection.immutable.Seq<Attribute> output, LlmMetrics metrics) {
        this.childOutput = childOutput;
        this.prompts = prompts;
        this.calls = List.copyOf(calls);
        this.output = output;
        this.metrics = metrics;
    }

    @Override
    public PartitionEvaluator<InternalRow, InternalRow> createEvaluator() {
        return (partitionIndex, inputs) -> {
            UnsafeProjection promptProjection = UnsafeProjection.create(prompts, childOutput);
            UnsafeProjection outputProjection = UnsafeProjection.create(ScalaSeqs.upcast(output), output);
            return new LlmWindow(TaskContext.get(), partitionIndex, inputs.head(), promptProjection,
                    outputProjection, calls, metrics);
        };
    }
}
