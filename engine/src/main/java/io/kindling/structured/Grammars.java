package io.kindling.structured;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Compiles constraints for one vocabulary, once per distinct constraint: the cache is keyed by the constraint's
 * text, so every row of a job that asks for the same schema shares one automaton and its masks. Thread-safe.
 */
public final class Grammars {

    /** Compiled constraints kept; past this the cache starts over (a job has a handful of schemas, not thousands). */
    static final int MAX_CACHED = 256;

    private final TokenVocabulary vocabulary;
    private volatile TokenTrie trie;
    private final Map<StructuredOutput, Grammar> cache = new ConcurrentHashMap<>();

    public Grammars(TokenVocabulary vocabulary) {
        this.vocabulary = vocabulary;
    }

    /** @throws StructuredOutputException naming what of the constraint is not supported or wrong */
    public Grammar compile(StructuredOutput constraint) {
        Grammar grammar = cache.get(constraint);
        if (grammar != null) {
            return grammar;
        }
        if (cache.size() >= MAX_CACHED) {
            cache.clear();
        }
        grammar = new Grammar(Dfa.compile(language(constraint), constraint.kind()), vocabulary, trie());
        cache.put(constraint, grammar);
        return grammar;
    }

    /** The byte language of a constraint. */
    static Node language(StructuredOutput constraint) {
        if (constraint instanceof StructuredOutput.JsonSchema s) {
            return JsonSchemaCompiler.compile(s.schema());
        }
        if (constraint instanceof StructuredOutput.JsonObject) {
            return JsonGrammar.anyObject(JsonGrammar.anyValue(JsonGrammar.MAX_DEPTH - 1));
        }
        if (constraint instanceof StructuredOutput.Regex r) {
            return RegexParser.parse(r.pattern());
        }
        return new Node.Alt(((StructuredOutput.Choice) constraint).choices().stream().map(Node::literal).toList());
    }

    private TokenTrie trie() {
        TokenTrie t = trie;
        if (t == null) {
            synchronized (this) {
                if (trie == null) {
                    trie = new TokenTrie(vocabulary.tokenBytes());
                }
                t = trie;
            }
        }
        return t;
    }
}
