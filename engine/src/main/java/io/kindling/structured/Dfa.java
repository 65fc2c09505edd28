package io.kindling.structured;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A deterministic automaton over bytes, trimmed: every state it keeps can still reach acceptance, so a token is
 * allowed exactly when its bytes lead to a kept state. Bytes that no edge tells apart share a class, which keeps the
 * table small ({@code numStates x numClasses}). Each state knows its distance to acceptance in bytes, and a shortest
 * completion, from which {@link Grammar} bounds the tokens a sequence still needs.
 */
final class Dfa {

    static final int DEAD = -1;
    /** The start state: the subset construction numbers it first. */
    static final int START = 0;
    /**
     * More states than this is a constraint too large to compile: the table (states x byte classes) would take tens
     * of MB of an executor's heap, and masking would be slow.
     */
    static final int MAX_STATES = 50_000;

    private final byte[] classOf;
    private final int numClasses;
    /** {@code [state * numClasses + class]}: the next state, or DEAD. */
    private final int[] next;
    private final int[] distance;
    private final int numStates;
    /** The smallest byte of each class. */
    private final int[] representative;

    private Dfa(byte[] classOf, int numClasses, int[] next, int[] distance, int[] representative) {
        this.classOf = classOf;
        this.numClasses = numClasses;
        this.next = next;
        this.distance = distance;
        this.numStates = distance.length;
        this.representative = representative;
    }

    int numStates() {
        return numStates;
    }

    int next(int state, int b) {
        return next[state * numClasses + (classOf[b] & 0xFF)];
    }

    boolean isAccepting(int state) {
        return distance[state] == 0;
    }

    /** The fewest bytes from {@code state} to acceptance. */
    int distance(int state) {
        return distance[state];
    }

    /** A shortest byte string from {@code state} to acceptance (each byte the smallest that keeps it shortest). */
    byte[] shortestCompletion(int state) {
        byte[] out = new byte[distance[state]];
        int s = state;
        for (int i = 0; i < out.length; i++) {
            for (int c = 0; c < numClasses; c++) {
                int t = next[s * numClasses + c];
                if (t != DEAD && distance[t] == distance[s] - 1) {
                    out[i] = (byte) representative[c];
                    s = t;
                    break;
                }
            }
        }
        return out;
    }

    /**
     * Subset construction from {@code node}'s Thompson automaton, then trimming.
     *
     * @throws StructuredOutputException when it matches nothing or needs more than {@link #MAX_STATES} states
     */
    static Dfa compile(Node node, String kind) {
        Nfa nfa = new Nfa(node);
        byte[] classOf = new byte[256];
        int numClasses = byteClasses(nfa, classOf);
        int[] representative = new int[numClasses];
        for (int b = 255; b >= 0; b--) {
            representative[classOf[b] & 0xFF] = b;
        }
        boolean[][] setHasClass = new boolean[nfa.sets.size()][numClasses];
        for (int s = 0; s < nfa.sets.size(); s++) {
            for (int c = 0; c < numClasses; c++) {
                setHasClass[s][c] = nfa.sets.get(s).contains(representative[c]);
            }
        }
        List<int[]> subsets = new ArrayList<>();
        Map<Key, Integer> ids = new HashMap<>();
        int[] startSet = closure(nfa, new int[] {nfa.start});
        subsets.add(startSet);
        ids.put(new Key(startSet), 0);
        int[] table = new int[numClasses * 64];
        for (int d = 0; d < subsets.size(); d++) {
            int[] subset = subsets.get(d);
            for (int c = 0; c < numClasses; c++) {
                BitSet targets = new BitSet();
                for (int s : subset) {
                    for (int[] edge : nfa.edges.get(s)) {
                        if (setHasClass[edge[0]][c]) {
                            targets.set(edge[1]);
                        }
                    }
                }
                int target = DEAD;
                if (!targets.isEmpty()) {
                    int[] closed = closure(nfa, targets.stream().toArray());
                    Key key = new Key(closed);
                    Integer id = ids.get(key);
                    if (id == null) {
                        if (subsets.size() >= MAX_STATES) {
                            throw new StructuredOutputException(kind, "needs more than " + MAX_STATES
                                    + " automaton states; simplify it (fewer optional parts, smaller bounds)");
                        }
                        id = subsets.size();
                        subsets.add(closed);
                        ids.put(key, id);
                    }
                    target = id;
                }
                int at = d * numClasses + c;
                if (at >= table.length) {
                    table = Arrays.copyOf(table, table.length * 2);
                }
                table[at] = target;
            }
        }
        int n = subsets.size();
        boolean[] accepting = new boolean[n];
        for (int d = 0; d < n; d++) {
            accepting[d] = Arrays.binarySearch(subsets.get(d), nfa.accept) >= 0;
        }
        int[] distance = distances(table, numClasses, n, accepting);
        if (distance[START] == Integer.MAX_VALUE) {
            throw new StructuredOutputException(kind, "matches no output at all");
        }
        int[] next = Arrays.copyOf(table, n * numClasses);
        for (int i = 0; i < next.length; i++) {
            if (next[i] != DEAD && distance[next[i]] == Integer.MAX_VALUE) {
                next[i] = DEAD;
            }
        }
        return new Dfa(classOf, numClasses, next, distance, representative);
    }

    /** Breadth-first from the accepting states over reversed edges. */
    private static int[] distances(int[] table, int numClasses, int n, boolean[] accepting) {
        List<List<Integer>> reverse = new ArrayList<>(n);
        for (int d = 0; d < n; d++) {
            reverse.add(new ArrayList<>());
        }
        for (int d = 0; d < n; d++) {
            for (int c = 0; c < numClasses; c++) {
                int t = table[d * numClasses + c];
                if (t != DEAD) {
                    reverse.get(t).add(d);
                }
            }
        }
        int[] distance = new int[n];
        Arrays.fill(distance, Integer.MAX_VALUE);
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int d = 0; d < n; d++) {
            if (accepting[d]) {
                distance[d] = 0;
                queue.add(d);
            }
        }
        while (!queue.isEmpty()) {
            int d = queue.poll();
            for (int p : reverse.get(d)) {
                if (distance[p] == Integer.MAX_VALUE) {
                    distance[p] = distance[d] + 1;
                    queue.add(p);
                }
            }
        }
        return distance;
    }

    /** Groups bytes that every edge set treats alike; returns the number of classes. */
    private static int byteClasses(Nfa nfa, byte[] classOf) {
        Map<BitSet, Integer> classes = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            BitSet signature = new BitSet(nfa.sets.size());
            for (int s = 0; s < nfa.sets.size(); s++) {
                if (nfa.sets.get(s).contains(b)) {
                    signature.set(s);
                }
            }
            classOf[b] = (byte) (int) classes.computeIfAbsent(signature, k -> classes.size());
        }
        return classes.size();
    }

    /** The sorted epsilon closure of {@code states}. */
    private static int[] closure(Nfa nfa, int[] states) {
        BitSet seen = new BitSet(nfa.numStates());
        ArrayDeque<Integer> stack = new ArrayDeque<>();
        for (int s : states) {
            if (!seen.get(s)) {
                seen.set(s);
                stack.push(s);
            }
        }
        while (!stack.isEmpty()) {
            for (int t : nfa.eps.get(stack.pop())) {
                if (!seen.get(t)) {
                    seen.set(t);
                    stack.push(t);
                }
            }
        }
        // states with neither byte edges nor acceptance add nothing to the subset's future: dropping them merges
        // subsets that differ only there
        BitSet kept = new BitSet();
        for (int s = seen.nextSetBit(0); s >= 0; s = seen.nextSetBit(s + 1)) {
            if (!nfa.edges.get(s).isEmpty() || s == nfa.accept) {
                kept.set(s);
            }
        }
        return kept.stream().toArray();
    }

    private record Key(int[] states) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(states, k.states);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(states);
        }
    }
}
