package io.kindling.structured;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A Thompson automaton over bytes built from a {@link Node}: states joined by byte-set edges and epsilon edges. */
final class Nfa {

    /** Per state: epsilon targets. */
    final List<List<Integer>> eps = new ArrayList<>();
    /** Per state: byte-set edges, as pairs of {@code sets} index and target. */
    final List<List<int[]>> edges = new ArrayList<>();
    /** The byte sets that label edges, each once. */
    final List<Node.Bytes> sets = new ArrayList<>();
    private final Map<List<Long>, Integer> setIds = new HashMap<>();
    final int start;
    final int accept;

    Nfa(Node node) {
        start = newState();
        accept = build(node, start);
    }

    int numStates() {
        return eps.size();
    }

    private int newState() {
        eps.add(new ArrayList<>(2));
        edges.add(new ArrayList<>(1));
        return eps.size() - 1;
    }

    private void epsilon(int from, int to) {
        eps.get(from).add(to);
    }

    /** Adds the states of {@code node} after {@code from}; returns the state its matches end in. */
    private int build(Node node, int from) {
        if (node instanceof Node.Bytes b) {
            int to = newState();
            edges.get(from).add(new int[] {setId(b), to});
            return to;
        }
        if (node instanceof Node.Seq s) {
            int cur = from;
            for (Node item : s.items()) {
                cur = build(item, cur);
            }
            return cur;
        }
        if (node instanceof Node.Alt a) {
            int join = newState();
            for (Node option : a.options()) {
                // a fresh entry per option, so no option's loops can reach another's states
                int entry = newState();
                epsilon(from, entry);
                epsilon(build(option, entry), join);
            }
            return join;
        }
        if (node instanceof Node.Repeat r) {
            return buildRepeat(r, from);
        }
        return buildMembers((Node.Members) node, from);
    }

    private int buildRepeat(Node.Repeat r, int from) {
        int cur = from;
        for (int i = 0; i < r.min(); i++) {
            cur = build(r.node(), cur);
        }
        if (r.max() == Node.UNBOUNDED) {
            int loop = newState();
            epsilon(cur, loop);
            epsilon(build(r.node(), loop), loop);
            return loop;
        }
        int end = newState();
        for (int i = r.min(); i < r.max(); i++) {
            epsilon(cur, end);
            int entry = newState();
            epsilon(cur, entry);
            cur = build(r.node(), entry);
        }
        epsilon(cur, end);
        return end;
    }

    /**
     * State {@code (i, first)} reads members {@code i..} when none has been written yet ({@code first}, so no
     * separator comes before the next) or some has; every path ends in one exit.
     */
    private int buildMembers(Node.Members m, int from) {
        int n = m.members().size();
        int exit = newState();
        int nextFirst = exit;
        int nextLater = exit;
        for (int i = n - 1; i >= 0; i--) {
            int first = newState();
            int later = newState();
            if (!m.required().get(i)) {
                epsilon(first, nextFirst);
                epsilon(later, nextLater);
            }
            epsilon(build(m.members().get(i), first), nextLater);
            epsilon(build(m.members().get(i), build(m.separator(), later)), nextLater);
            nextFirst = first;
            nextLater = later;
        }
        epsilon(from, nextFirst);
        return exit;
    }

    private int setId(Node.Bytes b) {
        List<Long> key = List.of(b.bits()[0], b.bits()[1], b.bits()[2], b.bits()[3]);
        return setIds.computeIfAbsent(key, k -> {
            sets.add(b);
            return sets.size() - 1;
        });
    }
}
