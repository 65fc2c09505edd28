package io.kindling.spark;

import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Cast;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import scala.Option;
import scala.PartialFunction;

/**
 * Binds each call's {@code keyColumn} to the column of that name in its operator's input, as a string, so that row
 * errors can name the row by it and column pruning keeps it. A call in a projection or filter whose input has no
 * such column, or in any other operator (where reading another column could change the query's meaning, as in an
 * aggregate), gets null: its errors then name the row by its prompt.
 */
final class ResolveLlmKeys extends Rule<LogicalPlan> {

    @Override
    public LogicalPlan apply(LogicalPlan plan) {
        return plan.resolveOperatorsUp(PartialFunction.fromFunction(ResolveLlmKeys::bind));
    }

    private static LogicalPlan bind(LogicalPlan node) {
        if (!node.childrenResolved() || ScalaSeqs.list(node.expressions()).stream()
                .noneMatch(e -> e.exists(x -> x instanceof LlmKeyColumn))) {
            return node;
        }
        boolean rowLevel = node instanceof Project || node instanceof Filter;
        return node.transformExpressions(PartialFunction.fromFunction(e -> e instanceof LlmKeyColumn key
                ? (rowLevel ? column(key.name(), node) : Optional.<Expression>empty())
                        .orElse(Literal.create(null, DataTypes.StringType))
                : e));
    }

    private static Optional<Expression> column(String name, LogicalPlan node) {
        List<Attribute> input = ScalaSeqs.list(node.inputSet().toSeq());
        return input.stream()
                .filter(a -> SQLConf.get().resolver().apply(a.name(), name).equals(Boolean.TRUE))
                .findFirst()
                .map(a -> a.dataType() instanceof StringType ? a
                        : new Cast(a, DataTypes.StringType, Option.apply(SQLConf.get().sessionLocalTimeZone())));
    }
}
