package io.kindling.structured;

/**
 * Where one sequence stands in its constraint: the automaton state after its generated tokens and how many more it
 * may generate. A forked sequence (a beam's continuation) takes a {@link #copy()} of its parent's.
 */
public final class ConstraintState {

    private final Grammar grammar;
    private int state;
    private int remainingTokens;
    private boolean first = true;

    /** @param maxNewTokens the most tokens the sequence may generate: max_tokens, or less where the context ends */
    public ConstraintState(Grammar grammar, int maxNewTokens) {
        this(grammar, grammar.startState(), maxNewTokens, true);
    }

    private ConstraintState(Grammar grammar, int state, int remainingTokens, boolean first) {
        this.grammar = grammar;
        this.state = state;
        this.remainingTokens = remainingTokens;
        this.first = first;
    }

    /** The next token's allowed set, as {@link TokenBitmask} words; shared, not to be modified. */
    public int[] allowedTokens() {
        return first ? grammar.allowedFirstTokens(state, remainingTokens)
                : grammar.allowedTokens(state, remainingTokens);
    }

    public void accept(int tokenId) {
        state = grammar.advance(state, tokenId);
        remainingTokens--;
        first = false;
    }

    /** Whether the tokens so far are a complete output (the automaton accepts). */
    public boolean isComplete() {
        return grammar.isAccepting(state);
    }

    public ConstraintState copy() {
        return new ConstraintState(grammar, state, remainingTokens, first);
    }
}
