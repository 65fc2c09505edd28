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
 * leave it needing, only tokens that keep the budget reachable are allowed (each state knows its byte distance to
 * acceptance, and every byte is a token in byte-level and byte-fallback vocabularies), so a constrained output that
 * runs into {@code max_tokens} is still complete. Thread-safe.
 */
public final class Grammar {

    private final Dfa dfa;
    private final TokenVocabulary vocabulary;
    private final TokenTrie trie;
    private final AtomicReferenceArray<Mask> masks;
    private final Map<Long, int[]> budgetMasks = new ConcurrentHashMap<>();

    /**
     * @param maxDistanceAfter the largest distance to acceptance any allowed token leaves
     * @param numAllowed how many tokens it allows
     */
    private record Mask(int[] words, int maxDistanceAfter, int numAllowed) {
    }

    Grammar(Dfa dfa, TokenVocabulary vocabulary, TokenTrie trie) {
        this.dfa = dfa;
        this.vocabulary = vocabulary;
        this.trie = trie;
        this.masks = new AtomicReferenceArray<>(dfa.numStates());
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
     * The allowed tokens in {@code state} for a sequence that may generate {@code remainingTokens} more (this one
     * included), as {@link TokenVocabulary#maskWords()} words. Shared: the caller must not modify it.
     */
    public int[] allowedTokens(int state, int remainingTokens) {
        Mask mask = masks.get(state);
        if (mask == null) {
            mask = computeMask(state, Integer.MAX_VALUE);
            masks.set(state, mask);
        }
        // after this token, remainingTokens - 1 are left: enough when they cover the distance any token leaves
        if (remainingTokens - 1 >= mask.maxDistanceAfter) {
            return mask.words;
        }
        int budget = Math.max(0, remainingTokens - 1);
        Mask full = mask;
        // no token fits a budget that was short from the start (max_tokens below the shortest output): the row
        // then runs out and reports it
        return budgetMasks.computeIfAbsent(((long) state << 32) | budget, k -> {
            Mask bounded = computeMask(state, budget);
            return bounded.numAllowed > 0 ? bounded.words : full.words;
        });
    }

    /** Walks the trie from {@code state}, allowing each token whose end state is at most {@code budget} from done. */
    private Mask computeMask(int state, int budget) {
        int[] words = new int[vocabulary.maskWords()];
        int maxDistance = 0;
        int numAllowed = 0;
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
            int distance = dfa.distance(s);
            if (distance <= budget) {
                for (int id = trie.firstToken[i]; id >= 0; id = trie.nextToken[id]) {
                    if (id < vocabulary.size()) {
                        words[id >>> 5] |= 1 << (id & 31);
                        maxDistance = Math.max(maxDistance, distance);
                        numAllowed++;
                    }
                }
            }
            i++;
        }
        if (dfa.isAccepting(state)) {
            for (int id : vocabulary.endTokenIds()) {
                if (id >= 0 && id < vocabulary.size()) {
                    words[id >>> 5] |= 1 << (id & 31);
                    numAllowed++;
                }
            }
        }
        return new Mask(words, maxDistance, numAllowed);
    }
}
