package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated hostile inputs through {@code kindling generate}, in process: malformed JSONL lines of every kind
 * (mutated rows, invalid UTF-8, random bytes), and model directories with truncated or corrupted safetensors,
 * configs and tokenizer files. Every case must end cleanly: an input line in error is one error row naming its
 * physical line, a broken model one line on stderr with exit status 1 (or 2 for a flag its sizes make wrong),
 * never an internal error or a hang; and the good rows mixed among bad ones come back exactly as a clean run of
 * them alone writes them. Prints its tally (cases, outcomes by kind) for benchmarks/RESULTS.md.
 */
class CliFuzzTest {

    private static final long SEED = 20261206L;
    private static final int LINE_FILES = 5;
    private static final int LINES_PER_FILE = 2000;
    private static final int MODEL_CASES = 240;
    private static final int TOKENIZER_CASES = 120;
    private static final Pattern LINE = Pattern.compile("^line (\\d+): (.*)$", Pattern.DOTALL);
    private static final ExecutorService RUNNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz-cli");
        t.setDaemon(true);
        return t;
    });

    @TempDir
    Path dir;

    private final Random random = new Random(SEED);
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private int cases;

    @AfterAll
    static void stopRunner() {
        RUNNER.shutdownNow();
    }

    @Test
    void everyHostileInputEndsInACleanErrorAndNoGoodRowIsLost() throws Exception {
        long start = System.nanoTime();
        int goodRows = fuzzJsonlLines();
        fuzzModelDirectories();
        fuzzTokenizerFiles();
        System.out.printf(Locale.ROOT, "fuzz: %d cases in %.1fs, %d good rows among them, 0 lost; outcomes: %s%n",
                cases, (System.nanoTime() - start) / 1e9, goodRows, outcomes);
        assertTrue(cases >= 10_000, cases + " cases");
    }

    // ------------------------------------------------------------------------------------------------ JSONL lines

    /** Runs files of mutated lines with good rows among them; returns how many good rows came back intact. */
    private int fuzzJsonlLines() throws Exception {
        Path model = DataSafetyTest.MODEL;
        List<String> goodLines = new ArrayList<>();
        List<List<byte[]>> files = new ArrayList<>();
        List<List<Integer>> goodAt = new ArrayList<>();
        for (int f = 0; f < LINE_FILES; f++) {
            List<byte[]> lines = new ArrayList<>();
            List<Integer> good = new ArrayList<>();
            for (int i = 0; i < LINES_PER_FILE; i++) {
                String row = validRow("f" + f + "-" + i);
                if (random.nextInt(20) == 0) {
                    good.add(goodLines.size());
                    goodLines.add(row);
                    lines.add(row.getBytes(StandardCharsets.UTF_8));
                } else {
                    lines.add(mutate(row));
                }
            }
            files.add(lines);
            goodAt.add(good);
        }

        // the good rows alone, once: what each must come back as
        Path clean = write(dir.resolve("clean.jsonl"), goodLines.stream()
                .map(l -> l.getBytes(StandardCharsets.UTF_8)).toList());
        Path cleanOut = dir.resolve("clean.out.jsonl");
        Run run = generate(model, clean, cleanOut);
        assertEquals(0, run.status, run.err);
        List<String> expected = Files.readAllLines(cleanOut);

        int intact = 0;
        for (int f = 0; f < LINE_FILES; f++) {
            Path in = write(dir.resolve("fuzz" + f + ".jsonl"), files.get(f));
            Path out = dir.resolve("fuzz" + f + ".out.jsonl");
            run = generate(model, in, out);
            assertEquals(0, run.status, run.err);
            List<String> rows = Files.readAllLines(out, StandardCharsets.UTF_8);
            assertEquals(LINES_PER_FILE, rows.size(), "one output row per input line");
            for (int i = 0; i < rows.size(); i++) {
                JsonNode row = Json.MAPPER.readTree(rows.get(i));
                cases++;
                if (row.get("error").isNull()) {
                    count("row served");
                    continue;
                }
                String error = row.get("error").asText();
                Matcher m = LINE.matcher(error);
                if (!m.matches() || Integer.parseInt(m.group(1)) != i + 1) {
                    fail("line " + (i + 1) + ": error does not name its physical line: " + error);
                }
                assertClean(error, new String(files.get(f).get(i), StandardCharsets.UTF_8));
                count("row error: " + kind(m.group(2)));
            }
            for (int k : goodAt.get(f)) {
                String line = goodLines.get(k);
                int at = indexOf(files.get(f), line);
                assertEquals(expected.get(k), rows.get(at), "good row " + line + " came back changed");
                intact++;
            }
        }
        return intact;
    }

    private static int indexOf(List<byte[]> lines, String line) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (Arrays.equals(lines.get(i), bytes)) {
                return i;
            }
        }
        throw new AssertionError("no line " + line);
    }

    /** A row the CLI serves, greedy or seeded so that its output is reproducible. */
    private String validRow(String id) {
        return switch (random.nextInt(5)) {
            case 0 -> "{\"id\": \"" + id + "\", \"prompt\": \"" + words(1 + random.nextInt(8)) + "\", \"max_tokens\": "
                    + (1 + random.nextInt(3)) + ", \"temperature\": 0}";
            case 1 -> "{\"id\": \"" + id + "\", \"prompt_token_ids\": [1, " + (300 + random.nextInt(3000)) + ", "
                    + (300 + random.nextInt(3000)) + "], \"max_tokens\": 2, \"temperature\": 0.7, \"seed\": "
                    + random.nextInt(1000) + "}";
            case 2 -> "{\"id\": \"" + id + "\", \"prompt\": \"" + words(3) + "\", \"max_tokens\": 2, \"n\": 2, "
                    + "\"seed\": 5, \"logprobs\": 2, \"stop\": [\"e\"]}";
            case 3 -> "{\"id\": \"" + id + "\", \"prompt_token_ids\": [1, 400], \"max_tokens\": 3, \"beam_width\": 2, "
                    + "\"length_penalty\": 0.5}";
            default -> "{\"id\": \"" + id + "\", \"prompt\": \"caf\u00e9 \u00fcber \u4f60\u597d "
                    + words(2) + "\", \"min_tokens\": 1, \"max_tokens\": 2, \"top_k\": 5, \"top_p\": 0.9, "
                    + "\"temperature\": 0.8, \"seed\": 11, \"repetition_penalty\": 1.2}";
        };
    }

    private String words(int n) {
        String[] pool = {"lighthouse", "a", "keeper", "of", "the", "sea", "storm", "ship", "night", "log"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : " ").append(pool[random.nextInt(pool.length)]);
        }
        return sb.toString();
    }

    private static final Object[] EDGE_VALUES = {null, true, false, -1, 0, 1, 2, -2147483649L, 2147483648L, 1.5, -0.0,
        1e308, "x", "", "\u0000", List.of(), List.of(1, "a"), List.of(-5), List.of(99_999_999), Map.of(),
        Map.of("role", 3), List.of(Map.of("role", "user")), "never"};
    private static final String[] FIELDS = {"id", "prompt", "prompt_token_ids", "messages", "max_tokens", "min_tokens",
        "temperature", "top_p", "top_k", "min_p", "seed", "stop", "stop_token_ids", "ignore_eos", "logprobs", "n",
        "repetition_penalty", "presence_penalty", "frequency_penalty", "beam_width", "length_penalty",
        "early_stopping", "bogus", "Prompt"};

    /** One hostile variant of a valid row: structure, values, bytes or encoding broken in one of many ways. */
    private byte[] mutate(String row) throws IOException {
        byte[] bytes = row.getBytes(StandardCharsets.UTF_8);
        return switch (random.nextInt(12)) {
            case 0 -> Arrays.copyOf(bytes, random.nextInt(bytes.length)); // truncated
            case 1 -> flip(bytes, 1 + random.nextInt(3));
            case 2 -> insert(bytes, randomBytes(1 + random.nextInt(4)));
            case 3 -> delete(bytes);
            case 4 -> jsonEdit(row);
            case 5 -> new String[] {"null", "42", "\"text\"", "true", "{}", "{\"id\": 1}"}[random.nextInt(6)]
                    .getBytes(StandardCharsets.UTF_8); // a JSON value that is no row
            case 6 -> randomBytes(random.nextInt(300)); // noise
            case 7 -> insert(bytes, INVALID_UTF8[random.nextInt(INVALID_UTF8.length)]);
            case 8 -> ("[" + row + "]").getBytes(StandardCharsets.UTF_8); // not an object
            case 9 -> (random.nextBoolean() ? "   \t " : "\uFEFF" + row).getBytes(StandardCharsets.UTF_8);
            case 10 -> ("{\"id\": 1, \"prompt\": " + "[".repeat(2000) + "]".repeat(2000) + "}")
                    .getBytes(StandardCharsets.UTF_8); // deep nesting
            default -> row.replace("}", ", \"max_tokens\": 2}").getBytes(StandardCharsets.UTF_8); // duplicate field
        };
    }

    private static final byte[][] INVALID_UTF8 = {
        {(byte) 0xC0, (byte) 0x80}, // overlong NUL
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // a UTF-16 surrogate
        {(byte) 0xE2, (byte) 0x82}, // cut short
        {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // beyond U+10FFFF
        {(byte) 0xFF}, {(byte) 0x80}, {(byte) 0xE9}, // Latin-1 é
    };

    private byte[] jsonEdit(String row) throws IOException {
        ObjectNode node = (ObjectNode) Json.MAPPER.readTree(row);
        String field = FIELDS[random.nextInt(FIELDS.length)];
        if (random.nextInt(4) == 0) {
            node.remove(field);
        } else {
            node.set(field, Json.MAPPER.valueToTree(EDGE_VALUES[random.nextInt(EDGE_VALUES.length)]));
        }
        return Json.MAPPER.writeValueAsBytes(node);
    }

    private byte[] flip(byte[] bytes, int count) {
        byte[] out = bytes.clone();
        for (int i = 0; i < count; i++) {
            out[random.nextInt(out.length)] = noNewline((byte) random.nextInt(256));
        }
        return out;
    }

    private byte[] insert(byte[] bytes, byte[] extra) {
        int at = random.nextInt(bytes.length + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, at);
        out.writeBytes(extra);
        out.write(bytes, at, bytes.length - at);
        return out.toByteArray();
    }

    private byte[] delete(byte[] bytes) {
        int from = random.nextInt(bytes.length);
        int to = Math.min(bytes.length, from + 1 + random.nextInt(10));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, from);
        out.write(bytes, to, bytes.length - to);
        return out.toByteArray();
    }

    private byte[] randomBytes(int n) {
        byte[] out = new byte[n];
        random.nextBytes(out);
        for (int i = 0; i < n; i++) {
            out[i] = noNewline(out[i]);
        }
        return out;
    }

    /** A newline would split the line in two, which is another case: keep one line one case. */
    private static byte noNewline(byte b) {
        return b == '\n' ? (byte) ' ' : b;
    }

    /** An error message a user can act on: no Java exception names, no internal error. */
    private static void assertClean(String error, String input) {
        for (String leak : new String[] {"Exception", "internal error", "java.", "\tat "}) {
            assertTrue(!error.contains(leak), "error leaks " + leak + ": " + error + " (input " + input + ")");
        }
    }

    /** Groups messages by their first words, numbers and quoted parts dropped. */
    private static String kind(String problem) {
        String words = problem.replaceAll("'[^']*'|\"[^\"]*\"|\\d+", "").replaceAll("[^A-Za-z_ ]", " ").trim();
        String[] parts = words.split("\\s+");
        return String.join(" ", Arrays.copyOf(parts, Math.min(3, parts.length))).trim();
    }

    // -------------------------------------------------------------------------------------------- model directories

    /** A model directory without tokenizer (fast to load) with one file broken; one token-id row to serve. */
    private void fuzzModelDirectories() throws Exception {
        Path in = write(dir.resolve("one.jsonl"), List.of("{\"prompt_token_ids\": [1, 330, 331], \"max_tokens\": 1}"
                .getBytes(StandardCharsets.UTF_8)));
        byte[] weights = Files.readAllBytes(DataSafetyTest.MODEL.resolve("model.safetensors"));
        byte[] config = Files.readAllBytes(DataSafetyTest.MODEL.resolve("config.json"));
        byte[] generation = Files.readAllBytes(DataSafetyTest.MODEL.resolve("generation_config.json"));
        long headerLength = ByteOrderLong.read(weights);
        for (int c = 0; c < MODEL_CASES; c++) {
            Path model = Files.createDirectories(dir.resolve("model-" + c));
            byte[] w = weights;
            byte[] cfg = config;
            switch (c % 6) {
                case 0 -> w = Arrays.copyOf(weights, random.nextInt((int) Math.min(weights.length, headerLength + 64)));
                case 1 -> w = corrupt(weights, 8, (int) headerLength + 8, 1 + random.nextInt(4)); // header JSON
                case 2 -> w = corrupt(weights, 0, 8, 1); // header length
                case 3 -> w = headerEdit(weights, headerLength);
                case 4 -> cfg = random.nextBoolean() ? Arrays.copyOf(config, random.nextInt(config.length))
                        : configEdit(config);
                default -> w = Arrays.copyOf(weights, (int) headerLength + 8 + random.nextInt(weights.length
                        - (int) headerLength - 8)); // data cut short
            }
            Files.write(model.resolve("model.safetensors"), w);
            Files.write(model.resolve("config.json"), cfg);
            Files.write(model.resolve("generation_config.json"), generation);
            expectCleanEnd(model, in, "model " + (c % 6 == 4 ? "config" : "safetensors"));
            deleteTree(model);
        }
    }

    private byte[] corrupt(byte[] bytes, int from, int to, int count) {
        byte[] out = bytes.clone();
        for (int i = 0; i < count; i++) {
            out[from + random.nextInt(to - from)] = (byte) random.nextInt(256);
        }
        return out;
    }

    /** The header as JSON, one tensor's dtype, shape or offsets set to an edge value; the same length kept. */
    private byte[] headerEdit(byte[] weights, long headerLength) throws IOException {
        ObjectNode header = (ObjectNode) Json.MAPPER.readTree(new String(weights, 8, (int) headerLength,
                StandardCharsets.UTF_8));
        List<String> names = new ArrayList<>();
        header.fieldNames().forEachRemaining(names::add);
        names.remove("__metadata__");
        ObjectNode tensor = (ObjectNode) header.get(names.get(random.nextInt(names.size())));
        switch (random.nextInt(5)) {
            case 0 -> tensor.put("dtype", new String[] {"F64", "I8", "Q4", "", "BF16"}[random.nextInt(5)]);
            case 1 -> tensor.set("shape", Json.MAPPER.valueToTree(List.of(random.nextInt(5), -1, 3)));
            case 2 -> ((ArrayNode) tensor.get("data_offsets")).set(1, Json.MAPPER.valueToTree(
                    new long[] {0, Long.MAX_VALUE, weights.length * 2L, -4}[random.nextInt(4)]));
            case 3 -> tensor.remove(new String[] {"dtype", "shape", "data_offsets"}[random.nextInt(3)]);
            default -> header.remove(names.get(random.nextInt(names.size()))); // a tensor missing
        }
        byte[] json = Json.MAPPER.writeValueAsBytes(header);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteOrderLong.write(json.length));
        out.writeBytes(json);
        out.write(weights, 8 + (int) headerLength, weights.length - 8 - (int) headerLength);
        return out.toByteArray();
    }

    private static final String[] CONFIG_FIELDS = {"hidden_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size", "max_position_embeddings",
        "rms_norm_eps", "rope_parameters", "architectures", "dtype", "tie_word_embeddings", "eos_token_id"};
    private static final Object[] CONFIG_VALUES = {null, 0, -1, 3, 1 << 30, 2.5, "x", List.of(), Map.of(),
        List.of("NoSuchForCausalLM"), Map.of("rope_type", "yarn"), true};

    private byte[] configEdit(byte[] config) throws IOException {
        ObjectNode node = (ObjectNode) Json.MAPPER.readTree(config);
        String field = CONFIG_FIELDS[random.nextInt(CONFIG_FIELDS.length)];
        if (random.nextInt(4) == 0) {
            node.remove(field);
        } else {
            node.set(field, Json.MAPPER.valueToTree(CONFIG_VALUES[random.nextInt(CONFIG_VALUES.length)]));
        }
        return Json.MAPPER.writeValueAsBytes(node);
    }

    // ------------------------------------------------------------------------------------------------- tokenizers

    /** The test model with a small tokenizer of its own, broken in one way per case. */
    private void fuzzTokenizerFiles() throws Exception {
        Path in = write(dir.resolve("text.jsonl"), List.of(
                "{\"prompt\": \"a cab\", \"max_tokens\": 1}".getBytes(StandardCharsets.UTF_8),
                "{\"messages\": [{\"role\": \"user\", \"content\": \"b\"}], \"max_tokens\": 1}"
                        .getBytes(StandardCharsets.UTF_8)));
        String tokenizer = smallTokenizer();
        String tokenizerConfig = "{\"tokenizer_class\": \"LlamaTokenizer\", \"bos_token\": \"<s>\", \"eos_token\": "
                + "\"</s>\", \"legacy\": false, \"chat_template\": \"{% for m in messages %}{{ m.content }}"
                + "{% endfor %}\"}";
        Path model = Files.createDirectories(dir.resolve("tok-model"));
        for (String f : new String[] {"model.safetensors", "config.json", "generation_config.json"}) {
            Files.copy(DataSafetyTest.MODEL.resolve(f), model.resolve(f));
        }
        for (int c = 0; c < TOKENIZER_CASES; c++) {
            String json = tokenizer;
            String cfg = tokenizerConfig;
            switch (c % 4) {
                case 0 -> json = tokenizer.substring(0, random.nextInt(tokenizer.length()));
                case 1 -> json = new String(flip(tokenizer.getBytes(StandardCharsets.UTF_8), 1 + random.nextInt(3)),
                        StandardCharsets.UTF_8);
                case 2 -> json = tokenizerEdit(tokenizer);
                default -> cfg = random.nextBoolean() ? cfg.substring(0, random.nextInt(cfg.length()))
                        : cfg.replace(new String[] {"\"legacy\": false", "\"<s>\"", "{{ m.content }}",
                            "LlamaTokenizer"}[random.nextInt(4)],
                        new String[] {"\"legacy\": 3", "7", "{{ m.content ", "{% raise %}", "[]"}[random.nextInt(5)]);
            }
            Files.writeString(model.resolve("tokenizer.json"), json);
            Files.writeString(model.resolve("tokenizer_config.json"), cfg);
            expectCleanEnd(model, in, "tokenizer");
        }
    }

    /** A SentencePiece-style BPE tokenizer: byte fallback tokens, a few merges, the three special tokens. */
    private static String smallTokenizer() {
        StringBuilder vocab = new StringBuilder("{\"<unk>\": 0, \"<s>\": 1, \"</s>\": 2");
        for (int b = 0; b < 256; b++) {
            vocab.append(String.format(Locale.ROOT, ", \"<0x%02X>\": %d", b, 3 + b));
        }
        String[] pieces = {"\u2581", "a", "b", "c", "\u2581a", "ab", "\u2581c", "cab", "\u2581cab"};
        for (int i = 0; i < pieces.length; i++) {
            vocab.append(", \"").append(pieces[i]).append("\": ").append(259 + i);
        }
        vocab.append('}');
        return "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": ["
                + "{\"id\": 0, \"content\": \"<unk>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                + "\"normalized\": false, \"special\": true}, {\"id\": 1, \"content\": \"<s>\", \"single_word\": false, "
                + "\"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}, {\"id\": 2, "
                + "\"content\": \"</s>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                + "\"normalized\": false, \"special\": true}], \"normalizer\": null, \"pre_tokenizer\": {\"type\": "
                + "\"Metaspace\", \"replacement\": \"\u2581\", \"prepend_scheme\": \"first\", \"split\": false}, "
                + "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": "
                + "\"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [{\"Sequence\": "
                + "{\"id\": \"A\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], \"special_tokens\": "
                + "{\"<s>\": {\"id\": \"<s>\", \"ids\": [1], \"tokens\": [\"<s>\"]}}}, \"decoder\": {\"type\": "
                + "\"ByteFallback\"}, \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": \"<unk>\", "
                + "\"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": true, "
                + "\"byte_fallback\": true, \"vocab\": " + vocab + ", \"merges\": [\"\u2581 a\", \"a b\", \"\u2581 c\", "
                + "\"c ab\", \"\u2581 cab\"]}}";
    }

    private static final String[] TOKENIZER_PATHS = {"model", "model/vocab", "model/merges", "model/type",
        "pre_tokenizer", "decoder", "post_processor", "normalizer", "added_tokens"};
    private static final Object[] TOKENIZER_VALUES = {null, 1, "x", List.of(), Map.of(), Map.of("type", "Nope"),
        List.of("z z"), List.of(Map.of("id", -1)), Map.of("type", "Unigram"), Map.of("type", "WordPiece")};

    private String tokenizerEdit(String tokenizer) throws IOException {
        ObjectNode root = (ObjectNode) Json.MAPPER.readTree(tokenizer);
        String[] path = TOKENIZER_PATHS[random.nextInt(TOKENIZER_PATHS.length)].split("/");
        ObjectNode parent = path.length == 1 ? root : (ObjectNode) root.get(path[0]);
        parent.set(path[path.length - 1], Json.MAPPER.valueToTree(TOKENIZER_VALUES[random.nextInt(
                TOKENIZER_VALUES.length)]));
        return Json.MAPPER.writeValueAsString(root);
    }

    // ----------------------------------------------------------------------------------------------------- common

    /**
     * Runs one row file on a broken model: it either serves the rows (the damage did not matter), or stops with one
     * line on stderr, status 1 (2 where the damaged sizes make a flag's value unusable), naming the problem.
     */
    private void expectCleanEnd(Path model, Path in, String what) throws Exception {
        Path out = dir.resolve("case.out.jsonl");
        Files.deleteIfExists(out);
        Run run = generate(model, in, out);
        cases++;
        List<String> lines = run.err.lines().toList();
        switch (run.status) {
            case 0 -> {
                List<String> rows = Files.readAllLines(out);
                assertEquals(Files.readAllLines(in).size(), rows.size(), run.err);
                for (String row : rows) {
                    JsonNode node = Json.MAPPER.readTree(row);
                    if (!node.get("error").isNull()) {
                        assertClean(node.get("error").asText(), what);
                    }
                }
                count(what + ": served");
            }
            case 1 -> {
                assertEquals(1, lines.size(), "one line for a fatal error: " + run.err);
                assertTrue(lines.get(0).startsWith("kindling: "), run.err);
                assertClean(lines.get(0), what);
                count(what + ": fatal, one line: " + kind(lines.get(0).substring("kindling: ".length())
                        .replace(model.toString(), "")));
            }
            case 2 -> {
                assertTrue(lines.get(0).startsWith("Invalid value for option '--"), run.err);
                count(what + ": flag refused");
            }
            default -> fail("status " + run.status + ": " + run.err);
        }
        // only a run that failed after it began writing keeps its partial file (for --resume)
        Path partial = dir.resolve("case.out.jsonl.partial");
        assertTrue(!Files.exists(partial) || run.err.contains(partial + "; --resume"), "partial file left behind");
        Files.deleteIfExists(partial);
    }

    private record Run(int status, String err) {
    }

    /** One command, in this JVM; a run over a minute is a hang. */
    private Run generate(Path model, Path in, Path out) throws Exception {
        String[] args = {"generate", "--model", model.toString(), "--input", in.toString(), "--output",
            out.toString(), "--overwrite", "--device", "cpu", "--max-num-seqs", "64", "--kv-cache-memory", "256k",
            "--threads", "1"};
        StringWriter err = new StringWriter();
        Future<Integer> status = RUNNER.submit(() -> Main.execute(new PrintWriter(new StringWriter()),
                new PrintWriter(err, true), args));
        try {
            return new Run(status.get(60, TimeUnit.SECONDS), err.toString());
        } catch (TimeoutException e) {
            status.cancel(true);
            throw new AssertionError("hung: " + String.join(" ", args), e);
        }
    }

    private void count(String outcome) {
        outcomes.merge(outcome, 1, Integer::sum);
    }

    private static Path write(Path path, List<byte[]> lines) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] line : lines) {
            out.writeBytes(line);
            out.write('\n');
        }
        return Files.write(path, out.toByteArray());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Iterator<Path> it = files.iterator(); it.hasNext(); ) {
                Files.delete(it.next());
            }
        }
        Files.delete(dir);
    }

    /** safetensors' header length: the first 8 bytes, little-endian. */
    private static final class ByteOrderLong {
        static long read(byte[] b) {
            long v = 0;
            for (int i = 7; i >= 0; i--) {
                v = (v << 8) | (b[i] & 0xFF);
            }
            return v;
        }

        static byte[] write(long v) {
            byte[] b = new byte[8];
            for (int i = 0; i < 8; i++) {
                b[i] = (byte) (v >>> (8 * i));
            }
            return b;
        }
    }
}
