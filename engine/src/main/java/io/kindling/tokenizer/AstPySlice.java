package io.kindling.tokenizer;

import java.util.ArrayList;
import java.util.List;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

/** {@code seq[start:stop:step]} with Python semantics (negative indices and steps, clamping) on lists and strings. */
final class AstPySlice extends AstRightValue {

    private final AstNode base;
    private final AstNode start;
    private final AstNode stop;
    private final AstNode step;

    AstPySlice(AstNode base, AstNode start, AstNode stop, AstNode step) {
        this.base = base;
        this.start = start;
        this.stop = stop;
        this.step = step;
    }

    @Override
    public Object eval(Bindings bindings, ELContext context) {
        Object seq = base.eval(bindings, context);
        if (seq == null) {
            return null;
        }
        Integer from = index(start, bindings, context);
        Integer to = index(stop, bindings, context);
        Integer by = index(step, bindings, context);
        if (seq instanceof String s) {
            int[] cps = s.codePoints().toArray();
            StringBuilder out = new StringBuilder();
            for (int i : positions(cps.length, from, to, by)) {
                out.appendCodePoint(cps[i]);
            }
            return out.toString();
        }
        if (seq instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            for (int i : positions(list.size(), from, to, by)) {
                out.add(list.get(i));
            }
            return out;
        }
        throw new ELException("cannot slice a " + seq.getClass().getSimpleName());
    }

    private static Integer index(AstNode node, Bindings bindings, ELContext context) {
        if (node == null) {
            return null;
        }
        Object v = node.eval(bindings, context);
        if (v == null) {
            return null;
        }
        if (v instanceof Number n) {
            return n.intValue();
        }
        throw new ELException("slice indices must be integers, got " + v);
    }

    /** The indices {@code range(len)[start:stop:step]} selects, as Python's {@code slice.indices} defines them. */
    static int[] positions(int len, Integer start, Integer stop, Integer step) {
        int by = step == null ? 1 : step;
        if (by == 0) {
            throw new ELException("slice step cannot be zero");
        }
        int lower = by > 0 ? 0 : -1;
        int upper = by > 0 ? len : len - 1;
        int from = start == null ? (by > 0 ? lower : upper) : clamp(start, len, lower, upper);
        int to = stop == null ? (by > 0 ? upper : lower) : clamp(stop, len, lower, upper);
        int count = by > 0 ? Math.max(0, (to - from + by - 1) / by) : Math.max(0, (from - to - by - 1) / -by);
        int[] out = new int[count];
        for (int k = 0; k < count; k++) {
            out[k] = from + k * by;
        }
        return out;
    }

    private static int clamp(int index, int len, int lower, int upper) {
        int i = index < 0 ? index + len : index;
        return Math.max(lower, Math.min(upper, i));
    }

    @Override
    public void appendStructure(StringBuilder b, Bindings bindings) {
        base.appendStructure(b, bindings);
        b.append('[');
        appendPart(b, start, bindings);
        b.append(':');
        appendPart(b, stop, bindings);
        b.append(':');
        appendPart(b, step, bindings);
        b.append(']');
    }

    private static void appendPart(StringBuilder b, AstNode node, Bindings bindings) {
        if (node != null) {
            node.appendStructure(b, bindings);
        }
    }

    @Override
    public int getCardinality() {
        return 4;
    }

    @Override
    public AstNode getChild(int i) {
        return switch (i) {
            case 0 -> base;
            case 1 -> start;
            case 2 -> stop;
            case 3 -> step;
            default -> null;
        };
    }

    @Override
    public String toString() {
        return "[::]";
    }
}
