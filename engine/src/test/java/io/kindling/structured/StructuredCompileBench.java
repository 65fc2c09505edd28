package io.kindling.structured;

import io.kindling.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a constraint costs before its first token, per schema of the test suite ({@link ConstraintSuite}): the
 * compile (byte language, then automaton; the vocabulary's trie is built once per engine and not counted), and the
 * first mask (a trie walk over the vocabulary) at the start state
 * and inside the first string, over a model's vocabulary. Not a test. Run after {@code mvn -o test-compile}:
 * <pre>java -cp "engine/target/classes:engine/target/test-classes:$(cat cp.txt)" \
 *     io.kindling.structured.StructuredCompileBench MODEL_DIR</pre>
 * where {@code cp.txt} is {@code mvn -o -q -pl engine dependency:build-classpath -Dmdep.outputFile=cp.txt}'s and
 * {@code MODEL_DIR} holds a tokenizer.json.
 */
public final class StructuredCompileBench {

    private static final int ROUNDS = 5;

    private StructuredCompileBench() {
    }

    public static void main(String[] args) {
        Path model = Path.of(args.length > 0 ? args[0] : "examples/models/kindling-define-6m");
        byte[][] tokens = Tokenizer.vocabularyOnly(model).tokenBytes();
        TokenVocabulary vocabulary = new TokenVocabulary(tokens, tokens.length, new int[0]);
        List<StructuredOutput> suite = new ArrayList<>(ConstraintSuite.jsonSchemas());
        suite.add(new StructuredOutput.JsonObject());
        TokenTrie trie = new TokenTrie(tokens); // once per engine: not a schema's cost
        for (StructuredOutput warm : suite) { // the JIT's first passes
            new Grammar(Dfa.compile(Grammars.language(warm), warm.kind()), vocabulary, trie);
        }
        System.out.printf(Locale.ROOT, "vocabulary: %s, %d tokens; best of %d rounds%n", model, tokens.length, ROUNDS);
        System.out.println("| # | schema | DFA states | compile ms | start mask ms | masks to the first value ms |");
        System.out.println("|---|---|---|---|---|---|");
        double total = 0;
        for (int i = 0; i < suite.size(); i++) {
            double compile = Double.MAX_VALUE;
            double start = Double.MAX_VALUE;
            double walk = Double.MAX_VALUE;
            Grammar grammar = null;
            for (int round = 0; round < ROUNDS; round++) {
                long t0 = System.nanoTime();
                grammar = new Grammar(Dfa.compile(Grammars.language(suite.get(i)), suite.get(i).kind()), vocabulary,
                        trie);
                long t1 = System.nanoTime();
                ConstraintState state = new ConstraintState(grammar, 1000);
                int[] mask = state.allowedTokens();
                long t2 = System.nanoTime();
                for (int step = 0; step < 8; step++) { // the first few states a sequence meets
                    int token = firstAllowed(mask);
                    if (token < 0 || state.isComplete()) {
                        break;
                    }
                    state.accept(token);
                    mask = state.allowedTokens();
                }
                long t3 = System.nanoTime();
                compile = Math.min(compile, (t1 - t0) / 1e6);
                start = Math.min(start, (t2 - t1) / 1e6);
                walk = Math.min(walk, (t3 - t2) / 1e6);
            }
            total += compile;
            String text = suite.get(i) instanceof StructuredOutput.JsonSchema s ? s.schema() : "json_object";
            System.out.printf(Locale.ROOT, "| %d | `%s` | %d | %.2f | %.2f | %.2f |%n", i + 1,
                    text.length() > 60 ? text.substring(0, 57) + "..." : text, grammar.numStates(), compile, start,
                    walk);
        }
        System.out.printf(Locale.ROOT, "total compile: %.1f ms for %d schemas%n", total, suite.size());
    }

    private static int firstAllowed(int[] mask) {
        for (int w = 0; w < mask.length; w++) {
            if (mask[w] != 0) {
                return (w << 5) + Integer.numberOfTrailingZeros(mask[w]);
            }
        }
        return -1;
    }
}
