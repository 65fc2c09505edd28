package io.kindling.spark;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Unevaluable;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * The {@code keyColumn} of an {@code llm_generate} call before analysis has looked for it in the call's input;
 * {@link ResolveLlmKeys} replaces it with the column or, where there is none, with null.
 */
final class LlmKeyColumn extends Expression implements Unevaluable, NodeFields.Node {

    private final String name;

    LlmKeyColumn(String name) {
        this.name = name;
    }

    String name() {
        return name;
    }

    @Override
    public scala.collection.immutable.Seq<Expression> children() {
        return ScalaSeqs.seq(java.util.List.of());
    }

    @Override
    public boolean resolved() {
        return false;
    }

    @Override
    public DataType dataType() {
        return DataTypes.StringType;
    }

    @Override
    public boolean nullable() {
        return true;
    }

    @Override
    public Object eval(InternalRow input) {
        throw new IllegalStateException("key column " + name + " was not resolved");
    }

    @Override
    public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
        throw new IllegalStateException("key column " + name + " was not resolved");
    }

    @Override
    public Expression withNewChildrenInternal(scala.collection.immutable.IndexedSeq<Expression> newChildren) {
        return this;
    }

    @Override
    public NodeFields fields() {
        return NodeFields.of(name);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LlmKeyColumn o && fields().equals(o.fields());
    }
}
