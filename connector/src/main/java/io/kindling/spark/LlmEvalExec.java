package io.kindling.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.expressions.SortOrder;
import org.apache.spark.sql.catalyst.plans.physical.Partitioning;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.execution.metric.SQLMetrics;
import org.apache.spark.sql.types.DataTypes;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;

/**
 * Runs the {@code llm_generate} calls of an {@link LlmEval}: each partition streams through a bounded window of
 * requests to this executor's shared engine, and rows come out in input order with the results appended. Its note
 * (shown by {@code EXPLAIN}) says why it runs below an operator that reads its results.
 */
public final class LlmEvalExec extends SparkPlan implements NodeFields.Node {

    /** Display names of the metrics a job's progress reads from its tasks' updates. */
    public static final String ROWS_METRIC = "rows out of llm_generate";
    public static final String TOKENS_METRIC = "generated tokens";
    public static final String ERRORS_METRIC = "rows that became errors";
    public static final String STEPS_METRIC = "engine steps (sum over engines)";
    public static final String SCHEDULED_SEQS_METRIC = "sequences those steps ran (sum over engines)";

    private final scala.collection.immutable.Seq<Expression> calls;
    private final scala.collection.immutable.Seq<Attribute> resultAttrs;
    private final SparkPlan child;
    private final Option<String> note;
    private final scala.collection.immutable.Seq<SparkPlan> children;
    private transient scala.collection.immutable.Map<String, SQLMetric> metrics;

    public LlmEvalExec(scala.collection.immutable.Seq<Expression> calls,
                       scala.collection.immutable.Seq<Attribute> resultAttrs, SparkPlan child, Option<String> note) {
        this.calls = calls;
        this.resultAttrs = resultAttrs;
        this.child = child;
        this.note = note;
        this.children = ScalaSeqs.seq(List.of(child));
    }

    public scala.collection.immutable.Seq<Expression> calls() {
        return calls;
    }

    public SparkPlan child() {
        return child;
    }

    @Override
    public scala.collection.immutable.Seq<Attribute> output() {
        List<Attribute> out = new ArrayList<>(ScalaSeqs.list(child.output()));
        out.addAll(ScalaSeqs.list(resultAttrs));
        return ScalaSeqs.seq(out);
    }

    @Override
    public AttributeSet producedAttributes() {
        return ScalaSeqs.attributeSet(resultAttrs);
    }

    /** Rows keep their partition and order: the child's columns pass through unchanged. */
    @Override
    public Partitioning outputPartitioning() {
        return child.outputPartitioning();
    }

    @Override
    public scala.collection.immutable.Seq<SortOrder> outputOrdering() {
        return child.outputOrdering();
    }

    @Override
    public synchronized scala.collection.immutable.Map<String, SQLMetric> metrics() {
        if (metrics == null) {
            Map<String, SQLMetric> m = new LinkedHashMap<>();
            m.put(LlmMetrics.OUTPUT_ROWS, SQLMetrics.createMetric(sparkContext(), ROWS_METRIC));
            m.put(LlmMetrics.REQUESTS, SQLMetrics.createMetric(sparkContext(), "number of requests sent"));
            m.put(LlmMetrics.PROMPT_TOKENS, SQLMetrics.createMetric(sparkContext(), "prompt tokens"));
            m.put(LlmMetrics.GENERATED_TOKENS, SQLMetrics.createMetric(sparkContext(), TOKENS_METRIC));
            m.put(LlmMetrics.ENGINE_WAIT, SQLMetrics.createNanoTimingMetric(sparkContext(),
                    "time waiting on the engine", SQLMetrics.createNanoTimingMetric$default$3()));
            m.put(LlmMetrics.ERROR_ROWS, SQLMetrics.createMetric(sparkContext(), ERRORS_METRIC));
            m.put(LlmMetrics.NULL_PROMPTS, SQLMetrics.createMetric(sparkContext(), "null prompts (null output)"));
            m.put(LlmMetrics.PREEMPTIONS, SQLMetrics.createMetric(sparkContext(), "engine preemptions"));
            m.put(LlmMetrics.KV_PEAK_BLOCKS, SQLMetrics.createMetric(sparkContext(),
                    "KV cache blocks in use at peak (sum over engines)"));
            m.put(LlmMetrics.KV_BLOCKS, SQLMetrics.createMetric(sparkContext(), "KV cache blocks (sum over engines)"));
            m.put(LlmMetrics.ENGINE_STEPS, SQLMetrics.createMetric(sparkContext(), STEPS_METRIC));
            m.put(LlmMetrics.SCHEDULED_SEQS, SQLMetrics.createMetric(sparkContext(), SCHEDULED_SEQS_METRIC));
            metrics = scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(m));
        }
        return metrics;
    }

    @Override
    public RDD<InternalRow> doExecute() {
        // The prompts of the calls, then their key columns, then their rows' own options (null where none).
        List<Expression> prompts = new ArrayList<>();
        List<Expression> keys = new ArrayList<>();
        List<Expression> rowOptions = new ArrayList<>();
        List<LlmCallSpec> specs = new ArrayList<>();
        for (Expression call : ScalaSeqs.list(calls)) {
            LlmGenerate g = (LlmGenerate) call;
            prompts.add(g.prompt());
            keys.add(g.key().isDefined() ? g.key().get() : Literal.create(null, DataTypes.StringType));
            rowOptions.add(g.rowOptions().isDefined() ? g.rowOptions().get()
                    : Literal.create(null, DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType)));
            specs.add(new LlmCallSpec(g.options(), g.struct()));
        }
        prompts.addAll(keys);
        prompts.addAll(rowOptions);
        LlmMetrics m = new LlmMetrics(metrics());
        LlmEvalEvaluatorFactory factory = new LlmEvalEvaluatorFactory(child.output(), ScalaSeqs.seq(prompts), specs,
                output(), m);
        return child.execute().mapPartitionsWithEvaluator(factory, ClassTag$.MODULE$.apply(InternalRow.class));
    }

    @Override
    public scala.collection.immutable.Seq<SparkPlan> children() {
        return children;
    }

    @Override
    public SparkPlan withNewChildrenInternal(scala.collection.immutable.IndexedSeq<SparkPlan> newChildren) {
        return new LlmEvalExec(calls, resultAttrs, newChildren.apply(0), note);
    }

    @Override
    public NodeFields fields() {
        return NodeFields.of(calls, resultAttrs, child, note);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LlmEvalExec o && fields().equals(o.fields());
    }
}
