package io.kindling.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The {@code tokenizer.json} document, read once to look up token ids and to apply the config's
 * {@code add_bos_token}/{@code add_eos_token} before the native tokenizer is built from it.
 */
final class TokenizerJson {

    static final String FILE = "tokenizer.json";
    private static final String METASPACE = "\u2581";

    private final Path file;
    private final ObjectNode root;

    private TokenizerJson(Path file, ObjectNode root) {
        this.file = file;
        this.root = root;
    }

    static TokenizerJson read(Path modelDir) {
        Path file = modelDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException("no " + FILE + " in " + modelDir + " (" + file + " is missing)");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException("cannot parse " + file + ": " + JsonFiles.problem(e), e);
        }
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new TokenizerException(file + " is not a tokenizers document (no \"model\" object)");
        }
        return new TokenizerJson(file, (ObjectNode) root);
    }

    Path file() {
        return file;
    }

    String json() {
        return root.toString();
    }

    /** The bound on token counts of the pipeline as it stands (after {@link #rebuildAsLlamaTokenizer}). */
    TokenBound tokenBound() {
        return TokenBound.of(root);
    }

    /** What each token id decodes to, as bytes (see {@link TokenBytes}). */
    byte[][] tokenBytes() {
        return TokenBytes.of(root);
    }

    /** See {@link TokenBytes#stripsLeadingSpace}. */
    boolean stripsLeadingSpace() {
        return TokenBytes.stripsLeadingSpace(root);
    }

    /** The id of a token: an added token first, else the model's vocabulary. */
    OptionalInt tokenId(String token) {
        for (JsonNode added : root.path("added_tokens")) {
            if (token.equals(added.path("content").asText(null))) {
                return OptionalInt.of(added.path("id").asInt());
            }
        }
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject() && vocab.has(token)) {
            return OptionalInt.of(vocab.get(token).asInt());
        }
        if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                if (token.equals(vocab.get(i).path(0).asText(null))) {
                    return OptionalInt.of(i);
                }
            }
        }
        return OptionalInt.empty();
    }

    /**
     * As transformers 5 builds a {@code LlamaTokenizer} (Llama 2, Mistral and their SentencePiece kin) from this
     * file: it keeps the vocabulary, merges and post-processor but replaces the pipeline around them. No normalizer;
     * a Metaspace pre-tokenizer that turns spaces into {@code ▁} and prepends one {@code ▁} to a text that does not
     * already start with one ({@code prepend_scheme} "always": every piece between special tokens, the legacy
     * behaviour; "first": only the start of the text, when the config sets {@code legacy: false} or leaves it out;
     * "never" with {@code add_prefix_space: false}); a decoder that strips the prefix again. The older form of these
     * files ({@code Prepend("▁")} and {@code Replace(" ", "▁")} normalizers) read as written gives one more
     * {@code ▁} to any text that starts with a space, so ids would differ from transformers' and vLLM's.
     * transformers does this to any file the config names a LlamaTokenizer, byte-level ones too (breaking them);
     * here only SentencePiece files (BPE with byte fallback) are rebuilt.
     */
    void rebuildAsLlamaTokenizer(TokenizerConfig config) {
        boolean llama = config.tokenizerClass().filter(c -> c.equals("LlamaTokenizer")
                || c.equals("LlamaTokenizerFast")).isPresent();
        JsonNode model = root.path("model");
        if (!llama || !"BPE".equals(model.path("type").asText()) || !model.path("byte_fallback").asBoolean(false)) {
            return;
        }
        boolean prefix = config.addPrefixSpace().orElse(true);
        String scheme = !prefix ? "never" : config.legacy().orElse(false) ? "always" : "first";
        ObjectMapper mapper = new ObjectMapper();
        root.putNull("normalizer");
        root.set("pre_tokenizer", mapper.createObjectNode().put("type", "Metaspace").put("replacement", METASPACE)
                .put("prepend_scheme", scheme).put("split", false));
        ObjectNode decoder = mapper.createObjectNode().put("type", "Sequence");
        ArrayNode steps = decoder.putArray("decoders");
        steps.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", METASPACE);
        steps.addObject().put("type", "ByteFallback");
        steps.addObject().put("type", "Fuse");
        if (prefix) {
            steps.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        }
        root.set("decoder", decoder);
    }

    /**
     * As transformers' {@code TokenizersBackend.update_post_processor}: when the config sets add_bos_token or
     * add_eos_token, the post-processor becomes {@code [bos] $A [eos]} (pair: {@code [bos] $A [eos] [bos] $B [eos]}).
     * A flag the config leaves out counts as false, and a flag whose token the config does not name is dropped.
     */
    void applySpecialTokenFlags(TokenizerConfig config) {
        if (config.addBosToken().isEmpty() && config.addEosToken().isEmpty()) {
            return;
        }
        Optional<String> bos = config.token("bos_token").filter(b -> config.addBosToken().orElse(false));
        Optional<String> eos = config.token("eos_token").filter(e -> config.addEosToken().orElse(false));
        ObjectNode processor = new ObjectMapper().createObjectNode().put("type", "TemplateProcessing");
        ArrayNode single = processor.putArray("single");
        ArrayNode pair = processor.putArray("pair");
        appendSequence(single, bos, "A", 0, eos);
        appendSequence(pair, bos, "A", 0, eos);
        appendSequence(pair, bos, "B", 1, eos);
        ObjectNode specials = processor.putObject("special_tokens");
        bos.ifPresent(token -> special(specials, token));
        eos.ifPresent(token -> special(specials, token));
        root.set("post_processor", processor);
    }

    private static void appendSequence(ArrayNode template, Optional<String> bos, String sequence, int typeId,
            Optional<String> eos) {
        bos.ifPresent(token -> template.addObject().putObject("SpecialToken").put("id", token).put("type_id", typeId));
        template.addObject().putObject("Sequence").put("id", sequence).put("type_id", typeId);
        eos.ifPresent(token -> template.addObject().putObject("SpecialToken").put("id", token).put("type_id", typeId));
    }

    private void special(ObjectNode specials, String token) {
        int id = tokenId(token).orElseThrow(() -> new TokenizerException(file + " has no token " + token));
        ObjectNode entry = specials.putObject(token).put("id", token);
        entry.putArray("ids").add(id);
        entry.putArray("tokens").add(token);
    }
}
