package io.kindling.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Expression;

/** Finding {@code llm_generate} calls in expression trees. */
final class LlmCalls {

    private LlmCalls() {
    }

    static boolean any(scala.collection.Seq<Expression> expressions) {
        return ScalaSeqs.list(expressions).stream().anyMatch(LlmCalls::contains);
    }

    static boolean contains(Expression e) {
        return e.exists(x -> x instanceof LlmGenerate);
    }

    /** Every call, outer ones before the calls nested in their prompts. */
    static List<LlmGenerate> all(scala.collection.Seq<Expression> expressions) {
        List<LlmGenerate> out = new ArrayList<>();
        for (Expression e : ScalaSeqs.list(expressions)) {
            e.foreach(x -> {
                if (x instanceof LlmGenerate g) {
                    out.add(g);
                }
                return scala.runtime.BoxedUnit.UNIT;
            });
        }
        return out;
    }

    /** The calls whose prompts hold no other call: those that can run first. */
    static List<LlmGenerate> innermost(scala.collection.Seq<Expression> expressions) {
        return all(expressions).stream().filter(g -> !contains(g.prompt())).toList();
    }
}
