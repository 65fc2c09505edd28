package io.kindling.tokenizer;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Llama-2/Mistral SentencePiece tokenizer as transformers 5 builds it from a {@code tokenizer.json} of the older
 * form ({@code Prepend("▁")} + {@code Replace(" ", "▁")} normalizers), for each way tokenizer_config.json can set
 * {@code legacy} and {@code add_prefix_space}.
 *
 * <p>How the expected ids were derived: transformers 5's {@code LlamaTokenizer.__init__} keeps the file's vocabulary,
 * merges and post-processor, drops its normalizer and installs {@code Metaspace(replacement="▁",
 * prepend_scheme=_get_prepend_scheme(add_prefix_space, self), split=False)}, where the scheme is "always" for
 * {@code legacy: true}, "first" for {@code legacy: false} or no {@code legacy} key (the class default is False), and
 * "never" for {@code add_prefix_space: false}. The tokenizers library's Metaspace replaces spaces with ▁ and then
 * prepends ▁ only when the piece does not already start with one ("first": only the piece at offset 0 of the text;
 * "always": every piece between special tokens). So " " is "▁" (28705) where the old file made it "▁▁" (259), and
 * "   leading" gives "▁▁" + "▁leading" where the old file gave "▁▁▁" + "▁leading". The ids below are what
 * {@code AutoTokenizer.from_pretrained} of transformers 5.18.0 (tokenizers 0.23.2) returned for this fixture with
 * those configs; the first config's ids for " ", "   leading spaces" and the special-token string also equal the
 * {@code ids_with_special_auto_tokenizer} that transformers 5.17 recorded in {@code llama2/reference.json}.
 */
class LlamaTokenizerParityTest {

    @TempDir
    Path dir;

    private static final String SPECIALS = "Hello<s>world</s> <unk> [INST] hi [/INST] </s><s>";
    private static final int[] SPECIALS_TAIL = {2, 28705, 0, 733, 16289, 28793, 12014, 733, 28748, 16289, 28793,
        28705, 2, 1};

    /** "always": the fixture's own config, legacy: true. */
    @Test
    void legacyPrependsToEveryPieceThatDoesNotStartWithMetaspace() throws IOException {
        check(config -> config.put("legacy", true),
                " ", ids(1, 28705), "",
                "   leading spaces", ids(1, 259, 5374, 10599), "  leading spaces",
                "\ttab", ids(1, 28705, 12, 4252), "\ttab",
                "\n\nnewlines", ids(1, 28705, 13, 13, 1095, 8063), "\n\nnewlines",
                " \t mixed", ids(1, 28705, 12, 9430), "\t mixed",
                "\u2581already", ids(1, 2141), "already",
                "Hello <s> world", ids(1, 22557, 28705, 1, 1526), "Hello  world",
                "<s> hi", ids(1, 1, 12014), "hi",
                "hi </s> <s> there", ids(1, 12014, 28705, 2, 28705, 1, 736), "hi   there",
                SPECIALS, concat(ids(1, 22557, 1, 1526), SPECIALS_TAIL), "Hello world  [INST] hi [/INST] ",
                "plain text", ids(1, 10835, 2245), "plain text");
    }

    /** "first": legacy false, and the same when the key is missing. "world" after {@code <s>} gets no ▁. */
    @Test
    void nonLegacyPrependsOnlyAtTheStartOfTheText() throws IOException {
        for (Consumer<ObjectNode> setting : List.<Consumer<ObjectNode>>of(c -> c.put("legacy", false),
                c -> c.remove("legacy"))) {
            check(setting,
                    " ", ids(1, 28705), "",
                    "   leading spaces", ids(1, 259, 5374, 10599), "  leading spaces",
                    "\ttab", ids(1, 28705, 12, 4252), "\ttab",
                    " \t mixed", ids(1, 28705, 12, 9430), "\t mixed",
                    "<s> hi", ids(1, 1, 12014), "hi",
                    "hi </s> <s> there", ids(1, 12014, 28705, 2, 28705, 1, 736), "hi   there",
                    SPECIALS, concat(ids(1, 22557, 1, 9471), SPECIALS_TAIL), "Helloworld  [INST] hi [/INST] ");
        }
    }

    /** "never": add_prefix_space false; the decoder then keeps a leading space. */
    @Test
    void noPrefixSpacePrependsNothing() throws IOException {
        check(config -> config.put("legacy", false).put("add_prefix_space", false),
                " ", ids(1, 28705), " ",
                "   leading spaces", ids(1, 259, 5374, 10599), "   leading spaces",
                "\ttab", ids(1, 12, 4252), "\ttab",
                "\n\nnewlines", ids(1, 13, 13, 1095, 8063), "\n\nnewlines",
                "\u2581already", ids(1, 2141), " already",
                "Hello <s> world", ids(1, 16230, 28705, 1, 1526), "Hello  world",
                "hi </s> <s> there", ids(1, 5365, 28705, 2, 28705, 1, 736), "hi   there",
                "plain text", ids(1, 19457, 2245), "plain text");
    }

    /** A byte-level file named LlamaTokenizerFast stays as written: transformers' rebuild would break it. */
    @Test
    void byteLevelFilesAreNotRebuilt() throws IOException {
        Path llama3 = copy("llama3_1", config -> config.put("tokenizer_class", "LlamaTokenizerFast"));
        try (Tokenizer t = Tokenizer.load(llama3)) {
            assertArrayEquals(ids(128000, 9906, 1917), t.encode("Hello world"));
        }
    }

    /** Cases as (text, ids with special tokens, decode skipping them). */
    private void check(Consumer<ObjectNode> setting, Object... cases) throws IOException {
        try (Tokenizer t = Tokenizer.load(copy("llama2", setting))) {
            List<Executable> checks = new ArrayList<>();
            for (int i = 0; i < cases.length; i += 3) {
                String text = (String) cases[i];
                int[] expected = (int[]) cases[i + 1];
                String decoded = (String) cases[i + 2];
                checks.add(() -> assertArrayEquals(expected, t.encode(text), "encode \"" + text + "\""));
                checks.add(() -> assertArrayEquals(Arrays.copyOfRange(expected, 1, expected.length),
                        t.encode(text, false), "encode without BOS \"" + text + "\""));
                checks.add(() -> assertEquals(decoded, t.decode(expected, true), "decode \"" + text + "\""));
            }
            assertAll(checks);
        }
    }

    private Path copy(String name, Consumer<ObjectNode> setting) throws IOException {
        Path source = Fixtures.tokenizer(name);
        Path target = Files.createTempDirectory(dir, name);
        Files.copy(source.resolve("tokenizer.json"), target.resolve("tokenizer.json"));
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode config = (ObjectNode) mapper.readTree(source.resolve("tokenizer_config.json").toFile());
        setting.accept(config);
        mapper.writeValue(target.resolve("tokenizer_config.json").toFile(), config);
        return target;
    }

    private static int[] ids(int... ids) {
        return ids;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
