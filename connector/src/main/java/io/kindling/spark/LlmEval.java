package io.kindling.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.Option;

/**
 * Evaluates {@code llm_generate} calls over its child's rows: its output is the child's columns followed by one column
 * per call ({@code resultAttrs}), in the same order. Spark's {@code BatchEvalPython} for LLM calls.
 *
 * <p>The calls are a constructor argument, so they count among the node's expressions: column pruning keeps the
 * prompt columns they read. {@code note} says, in plans, why the node sits where it does when an operator above it
 * reads its results ({@link PinnedEvals}).
 */
public final class LlmEval extends LogicalPlan implements NodeFields.Node {

    private final scala.collection.immutable.Seq<Expression> calls;
    private final scala.collection.immutable.Seq<Attribute> resultAttrs;
    private final LogicalPlan child;
    private final Option<String> note;
    private final scala.collection.immutable.Seq<LogicalPlan> children;

    public LlmEval(scala.collection.immutable.Seq<Expression> calls,
                   scala.collection.immutable.Seq<Attribute> resultAttrs, LogicalPlan child, Option<String> note) {
        this.calls = calls;
        this.resultAttrs = resultAttrs;
        this.child = child;
        this.note = note;
        this.children = ScalaSeqs.seq(List.of(child));
    }

    public scala.collection.immutable.Seq<Expression> calls() {
        return calls;
    }

    public scala.collection.immutable.Seq<Attribute> resultAttrs() {
        return resultAttrs;
    }

    public LogicalPlan child() {
        return child;
    }

    public Option<String> note() {
        return note;
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

    @Override
    public Option<Object> maxRows() {
        return child.maxRows();
    }

    @Override
    public scala.collection.immutable.Seq<LogicalPlan> children() {
        return children;
    }

    @Override
    public LogicalPlan withNewChildrenInternal(scala.collection.immutable.IndexedSeq<LogicalPlan> newChildren) {
        return new LlmEval(calls, resultAttrs, newChildren.apply(0), note);
    }

    @Override
    public NodeFields fields() {
        return NodeFields.of(calls, resultAttrs, child, note);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LlmEval o && fields().equals(o.fields());
    }
}
