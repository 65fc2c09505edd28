package io.kindling.structured;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Exact allowed-token sets of compiled constraints over a small hand-made vocabulary. */
class TokenMaskTest {

    static final int EOS = 8;
    /** Token id -> bytes; 8 is EOS (special), 9 and 10 are the two bytes of "é", 11 is "é" whole. */
    static final byte[][] TOKENS = {
            utf8("{"), utf8("}"), utf8("\""), utf8("a"), utf8("\"a\""), utf8(":"), utf8(" "), utf8("{\""), null,
            {(byte) 0xC3}, {(byte) 0xA9}, utf8("é"), utf8("1"), utf8("12"), utf8(",")};
    static final Grammars GRAMMARS = new Grammars(new TokenVocabulary(TOKENS, TOKENS.length + 1, new int[] {EOS}));

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The allowed ids after {@code tokens}, with no length limit. */
    static List<Integer> allowedAfter(Grammar g, int... tokens) {
        ConstraintState state = new ConstraintState(g, 1000);
        for (int t : tokens) {
            state.accept(t);
        }
        return ids(state.allowedTokens());
    }

    static List<Integer> ids(int[] words) {
        List<Integer> out = new ArrayList<>();
        for (int id = 0; id < words.length * 32; id++) {
            if ((words[id >>> 5] & (1 << (id & 31))) != 0) {
                out.add(id);
            }
        }
        return out;
    }

    @Test
    void objectWithABoundedIntegerAllowsExactlyTheTokensThatCanContinueIt() {
        Grammar g = GRAMMARS.compile(new StructuredOutput.JsonSchema("{\"type\":\"object\",\"properties\":{\"a\":"
                + "{\"type\":\"integer\",\"minimum\":1,\"maximum\":12}},\"required\":[\"a\"],"
                + "\"additionalProperties\":false}"));
        assertEquals(List.of(0, 7), allowedAfter(g));                 // "{" or "{\"", no leading space, no EOS
        assertEquals(List.of(2, 4, 6), allowedAfter(g, 0));           // '"', '"a"', whitespace; not '}': a is required
        assertEquals(List.of(6, 12, 13), allowedAfter(g, 7, 3, 2, 5)); // {"a": then 1, 12 or whitespace
        assertEquals(List.of(1, 6), allowedAfter(g, 7, 3, 2, 5, 13));  // 12 is the maximum: no more digits, no comma
        assertEquals(List.of(1, 6, 12), allowedAfter(g, 0, 4, 5, 12)); // 1 may become 11, not 112 (above 12)
        assertEquals(List.of(EOS), allowedAfter(g, 0, 4, 5, 13, 1));  // complete: only EOS
    }

    @Test
    void aMultiByteCharacterSplitAcrossTokensIsAllowedOnlyWhenItsBytesCanComplete() {
        Grammar g = GRAMMARS.compile(new StructuredOutput.Regex("é+"));
        assertEquals(List.of(9, 11), allowedAfter(g));       // the lead byte or the whole character, never A9 alone
        assertEquals(List.of(10), allowedAfter(g, 9));       // after the lead byte only its continuation
        assertEquals(List.of(EOS, 9, 11), allowedAfter(g, 9, 10));
    }

    @Test
    void insideAStringEveryCharacterIsAllowedAndTheBudgetForcesTheClosingQuote() {
        Grammar g = GRAMMARS.compile(new StructuredOutput.JsonSchema("{\"type\":\"string\"}"));
        // any token whose bytes are string characters or the closing quote; not '"a"' (text after the string), not
        // the lone continuation byte, not EOS
        assertEquals(List.of(0, 1, 2, 3, 5, 6, 7, 9, 11, 12, 13, 14), allowedAfter(g, 2, 3));
        ConstraintState lastToken = new ConstraintState(g, 2);
        lastToken.accept(2);
        // one token left: it must close the string ('{"' does too: the string is then "{")
        assertEquals(List.of(2, 7), ids(lastToken.allowedTokens()));
    }

    @Test
    void endOfSequenceIsAllowedExactlyInAcceptingStates() {
        Grammar g = GRAMMARS.compile(new StructuredOutput.JsonSchema("{\"type\":\"object\",\"properties\":"
                + "{\"a\":{\"type\":\"integer\"}}}"));
        SplittableRandom random = new SplittableRandom(7);
        int accepting = 0;
        for (int walk = 0; walk < 200; walk++) {
            ConstraintState state = new ConstraintState(g, 40);
            for (int step = 0; step < 40; step++) {
                List<Integer> allowed = ids(state.allowedTokens());
                assertEquals(state.isComplete(), allowed.contains(EOS), "state after " + step + " tokens");
                int token = allowed.get(random.nextInt(allowed.size()));
                if (token == EOS) {
                    accepting++;
                    break;
                }
                state.accept(token);
            }
            assertTrue(state.isComplete(), "the budget of 40 tokens forces a complete object");
        }
        assertTrue(accepting > 50, "walks ending in EOS: " + accepting);
    }

    @Test
    void whereDecodingStripsALeadingSpaceTheFirstTokenCannotStartWithOne() {
        byte[][] tokens = {utf8(" a"), utf8("a"), utf8(" "), null};
        Grammars sentencePiece = new Grammars(new TokenVocabulary(tokens, 4, new int[] {3}, true));
        Grammar g = sentencePiece.compile(new StructuredOutput.Regex(" ?a+( a)*"));
        assertEquals(List.of(1), ids(new ConstraintState(g, 10).allowedTokens())); // not " a", not " "
        ConstraintState afterA = new ConstraintState(g, 10);
        afterA.accept(1);
        assertEquals(List.of(0, 1, 2, 3), ids(afterA.allowedTokens())); // later a space is kept in the text
        Grammar plain = new Grammars(new TokenVocabulary(tokens, 4, new int[] {3})).compile(
                new StructuredOutput.Regex(" ?a+( a)*"));
        assertEquals(List.of(0, 1, 2), ids(new ConstraintState(plain, 10).allowedTokens()));
    }

    @Test
    void theBudgetCountsTokensNotBytes() {
        Grammar g = GRAMMARS.compile(new StructuredOutput.JsonSchema("{\"type\":\"object\",\"properties\":{\"a\":"
                + "{\"type\":\"integer\"}},\"required\":[\"a\"]}"));
        // the shortest document {"a":1} is 7 bytes; cut into the longest tokens, {" a " : 1 }, 6 tokens
        assertEquals(6, g.tokenDistance(g.startState()));
        SplittableRandom random = new SplittableRandom(11);
        for (int walk = 0; walk < 100; walk++) {
            ConstraintState state = new ConstraintState(g, 6);
            for (int step = 0; step < 6; step++) {
                List<Integer> allowed = ids(state.allowedTokens());
                state.accept(allowed.get(random.nextInt(allowed.size())));
            }
            assertTrue(state.isComplete(), "6 tokens always make a whole document");
        }
    }

    @Test
    void choicesAndTheCompileCache() {
        StructuredOutput choice = new StructuredOutput.Choice(List.of("a", "{a}"));
        Grammar g = GRAMMARS.compile(choice);
        assertEquals(List.of(0, 3), allowedAfter(g));
        assertEquals(List.of(3), allowedAfter(g, 0));
        assertEquals(List.of(EOS), allowedAfter(g, 3));
        assertTrue(g == GRAMMARS.compile(new StructuredOutput.Choice(List.of("a", "{a}"))), "cached by value");
    }

    @Test
    void unsupportedSchemaFeaturesAreErrorsThatNameThem() {
        assertProblem("{\"type\":\"string\",\"pattern\":\"x\"}", "keyword 'pattern' is not supported");
        assertProblem("{\"allOf\":[{\"type\":\"string\"}]}", "keyword 'allOf' is not supported");
        assertProblem("{\"type\":\"string\",\"format\":\"email\"}", "format 'email' is not supported");
        assertProblem("{\"type\":\"number\",\"minimum\":0.5}", "minimum 0.5 is not an integer");
        assertProblem("{\"$ref\":\"http://x/y\"}", "$ref 'http://x/y' is not supported");
        assertProblem("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"date\"}}}",
                "at #/properties/a: type 'date' is not a JSON schema type");
        StructuredOutputException large = assertThrows(StructuredOutputException.class,
                () -> GRAMMARS.compile(new StructuredOutput.Regex("[ab]*a[ab]{20}"))); // 2^21 deterministic states
        assertTrue(large.problem().startsWith("needs more than 50000 automaton states"), large.problem());
        StructuredOutputException regex = assertThrows(StructuredOutputException.class,
                () -> GRAMMARS.compile(new StructuredOutput.Regex("(?=a)b")));
        assertEquals("regex", regex.kind());
        assertTrue(regex.problem().contains("look-around"), regex.problem());
    }

    private static void assertProblem(String schema, String expected) {
        StructuredOutputException e = assertThrows(StructuredOutputException.class,
                () -> GRAMMARS.compile(new StructuredOutput.JsonSchema(schema)));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
