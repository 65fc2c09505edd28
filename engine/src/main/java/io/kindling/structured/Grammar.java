package io.kindling.structured;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A compiled constraint over one vocabulary: its byte automaton and, per automaton state, the tokens allowed there,
 * computed the first time a sequence reaches that state and cached. A token is allowed when its bytes keep the
 * automaton alive; an end token (EOS) when the state accepts; special tokens never. Because the automaton is
 * finite (nesting is bounded at compile time) every token is what XGrammar calls context-independent: the state
 * alone decides, so a state's mask is computed once for every sequence and step that reaches it.
 *
 * <p>A sequence also must finish within its token budget: where fewer tokens remain than some allowed token would
 * leave it needing, only tokens that keep the budget reachable are allowed (each state knows how many tokens surely
 * complete it, {@link #tokenDistance}), so a constrained output that runs into {@code max_tokens} is still complete.
 * Thread-safe.
 */
public final class Grammar {

    private final Dfa dfa;
    private final TokenVocabulary vocabulary;
    private final TokenTrie trie;
    private final AtomicReferenceArray<Mask> masks;
    /** Masks where the budget binds, by (state, tokens left after this one). */
    private final Map<Long, int[]> budgetMasks = new ConcurrentHashMap<>();
    /** For states where a budget bound: their allowed tokens by the token distance they leave. */
    private final Map<Integer, int[][]> distanceClasses = new ConcurrentHashMap<>();
    /**
     * The first token's masks where decoding strips a leading space, without the tokens that start with one; keyed
     * by the (cached, shared) full mask's identity.
     */
    private final Map<int[], int[]> firstTokenMasks = new ConcurrentHashMap<>();
    /** Per state, an upper bound on the tokens to acceptance (see {@link #tokenDistance}); 0 until computed. */
    private final int[] tokenDistances;

    /** @param maxDistanceAfter the largest token distance to acceptance any allowed token leaves */
    private record Mask(int[] words, int maxDistanceAfter) {
    }

    Grammar(Dfa dfa, TokenVocabulary vocabulary, TokenTrie trie) {
        this.dfa = dfa;
        this.vocabulary = vocabulary;
        this.trie = trie;
        this.masks = new AtomicReferenceArray<>(dfa.numStates());
        this.tokenDistances = new int[dfa.numStates()];
    }

    /**
     * How many tokens surely take {@code state} to acceptance: a shortest byte completion, cut into the longest
     * tokens that match it (a byte no token starts with counts as one, as a byte-fallback token would). At most
     * the byte distance, and with a BPE vocabulary several times less, so a budget reaches further than bytes would.
     */
    int tokenDistance(int state) {
        int cached = tokenDistances[state];
        if (cached > 0 || dfa.isAccepting(state)) {
            return cached;
        }
        byte[] completion = dfa.shortestCompletion(state);
        int tokens = 0;
        for (int pos = 0; pos < completion.length; tokens++) {
            pos += Math.max(1, trie.longestMatch(completion, pos, vocabulary.size()));
        }
        tokenDistances[state] = tokens; // a benign race: every thread computes the same value
        return tokens;
    }

    public int startState() {
        return Dfa.START;
    }

    public boolean isAccepting(int state) {
        return dfa.isAccepting(state);
    }

    public int numStates() {
        return dfa.numStates();
    }

    /**
     * The state after {@code tokenId}. An end token leaves an accepting state as it is.
     *
     * @throws IllegalStateException when the token was not allowed in {@code state}
     */
    public int advance(int state, int tokenId) {
        if (vocabulary.isEnd(tokenId) && dfa.isAccepting(state)) {
            return state;
        }
        byte[] bytes = tokenId < vocabulary.tokenBytes().length ? vocabulary.tokenBytes()[tokenId] : null;
        int s = bytes == null || bytes.length == 0 ? Dfa.DEAD : state;
        for (int i = 0; bytes != null && i < bytes.length && s != Dfa.DEAD; i++) {
            s = dfa.next(s, bytes[i] & 0xFF);
        }
        if (s == Dfa.DEAD) {
            throw new IllegalStateException("token " + tokenId + " is not allowed in constraint state " + state);
        }
        return s;
    }

    /**
     * {@link #allowedTokens(int, int)} for a sequence's first token: where decoding strips a leading space
     * ({@link TokenVocabulary#stripsLeadingSpace()}), tokens that start with a space are not allowed, so the text
     * keeps every byte the automaton read.
     */
    public int[] allowedFirstTokens(int state, int remainingTokens) {
        int[] mask = allowedTokens(state, remainingTokens);
        if (!vocabulary.stripsLeadingSpace()) {
            return mask;
        }
        return firstTokenMasks.computeIfAbsent(mask, m -> {
            int[] words = m.clone();
            byte[][] tokens = vocabulary.tokenBytes();
            boolean any = false;
            for (int id = 0; id < Math.min(tokens.length, vocabulary.size()); id++) {
                if (tokens[id] != null && tokens[id].length > 0 && tokens[id][0] == ' ') {
                    words[id >>> 5] &= ~(1 << (id & 31));
                }
                any |= (words[id >>> 5] & (1 << (id & 31))) != 0;
            }
            return any ? words : m; // only spaces can start it: the text will lack one, rather than no token fit
        });
    }

    /**
     * The allowed tokens in {@code state} for a sequence that may generate {@code remainingTokens} more (this one
     * included), as {@link TokenVocabulary#maskWords()} words. Shared: the caller must not modify it.
     */
    public int[] allowedTokens(int state, int remainingTokens) {
        Mask mask = masks.get(state);
        if (mask == null) {
            mask = computeMask(state);
            masks.set(state, mask);
        }
        // after this token, remainingTokens - 1 are left: enough when they cover the distance any token leaves
        if (remainingTokens - 1 >= mask.maxDistanceAfter) {
            return mask.words;
        }
        int budget = Math.max(0, remainingTokens - 1);
        Mask full = mask;
        return budgetMasks.computeIfAbsent(((long) state << 32) | budget, k -> {
            int[][] classes = distanceClasses.computeIfAbsent(state, this::byDistance);
            int[] words = endTokens(state);
            boolean any = hasAny(words);
            for (int d = 0; d <= Math.min(budget, classes.length - 1); d++) {
                if (classes[d] != null) {
                    for (int w = 0; w < words.length; w++) {
                        words[w] |= classes[d][w];
                    }
                    any = true;
                }
            }
            // no token fits a budget that was short from the start (max_tokens below the shortest output): the row
            // then runs out and reports it
            return any ? words : full.words;
        });
    }

    /** One walk: every allowed token, by the token distance its end state leaves. */
    private Mask computeMask(int state) {
        int[] words = endTokens(state);
        int[] maxDistance = {0};
        walk(state, (id, distance) -> {
            words[id >>> 5] |= 1 << (id & 31);
            maxDistance[0] = Math.max(maxDistance[0], distance);
        });
        return new Mask(words, maxDistance[0]);
    }

    /**
     * The allowed tokens of {@code state} grouped by the token distance they leave ({@code [distance]}, null where
     * none): one walk, from which a mask for any budget is an OR (computed for states where a budget binds).
     */
    private int[][] byDistance(int state) {
        int[][] classes = new int[masks.get(state).maxDistanceAfter + 1][];
        walk(state, (id, distance) -> {
            if (classes[distance] == null) {
                classes[distance] = new int[vocabulary.maskWords()];
            }
            classes[distance][id >>> 5] |= 1 << (id & 31);
        });
        return classes;
    }

    /** A fresh mask holding the end tokens where {@code state} accepts, else nothing. */
    private int[] endTokens(int state) {
        int[] words = new int[vocabulary.maskWords()];
        if (dfa.isAccepting(state)) {
            for (int id : vocabulary.endTokenIds()) {
                if (id >= 0 && id < vocabulary.size()) {
                    words[id >>> 5] |= 1 << (id & 31);
                }
            }
        }
        return words;
    }

    private static boolean hasAny(int[] words) {
        for (int w : words) {
            if (w != 0) {
                return true;
            }
        }
        return false;
    }

    /** Receives an allowed token and the token distance to acceptance its end state leaves. */
    private interface TokenVisitor {
        void visit(int tokenId, int distance);
    }

    /** Walks the trie from {@code state}: every token whose bytes keep the automaton alive, skipping dead subtrees. */
    private void walk(int state, TokenVisitor visitor) {
        int[] stateAt = new int[65];
        stateAt[0] = state;
        int i = 0;
        while (i < trie.numNodes) {
            int d = trie.depth[i];
            if (d >= stateAt.length) {
                stateAt = Arrays.copyOf(stateAt, d * 2);
            }
            int s = dfa.next(stateAt[d - 1], trie.label[i] & 0xFF);
            if (s == Dfa.DEAD) {
                i = trie.end[i];
                continue;
            }
            stateAt[d] = s;
            if (trie.firstToken[i] >= 0) {
                int distance = tokenDistance(s);
                for (int id = trie.firstToken[i]; id >= 0; id = trie.nextToken[id]) {
                    if (id < vocabulary.size()) {
                        visitor.visit(id, distance);
                    }
                }
            }
            i++;
        }
    }
}
