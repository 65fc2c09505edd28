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
            throw new TokenizerException("cannot parse " + file + ": " + e.getMessage(), e);
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
     * As transformers' Llama-style {@code update_post_processor}: when the config sets add_bos_token or
     * add_eos_token, the post-processor becomes {@code [bos] $A [eos]} (pair: {@code [bos] $A [eos] [bos] $B [eos]}).
     * A flag the config leaves out keeps what tokenizer.json's own post-processor does.
     */
    void applySpecialTokenFlags(TokenizerConfig config) {
        if (config.addBosToken().isEmpty() && config.addEosToken().isEmpty()) {
            return;
        }
        Optional<String> bos = config.token("bos_token");
        Optional<String> eos = config.token("eos_token");
        boolean addBos = config.addBosToken().orElseGet(() -> bos.map(this::templateStartsWith).orElse(false));
        boolean addEos = config.addEosToken().orElseGet(() -> eos.map(this::templateEndsWith).orElse(false));
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode processor = mapper.createObjectNode().put("type", "TemplateProcessing");
        ArrayNode single = processor.putArray("single");
        ArrayNode pair = processor.putArray("pair");
        ObjectNode specials = processor.putObject("special_tokens");
        for (int typeId = 0; typeId < 2; typeId++) {
            for (ArrayNode target : typeId == 0 ? new ArrayNode[] {single, pair} : new ArrayNode[] {pair}) {
                if (addBos) {
                    target.addObject().putObject("SpecialToken").put("id", required(bos, "add_bos_token", "bos_token"))
                            .put("type_id", typeId);
                }
                target.addObject().putObject("Sequence").put("id", typeId == 0 ? "A" : "B").put("type_id", typeId);
                if (addEos) {
                    target.addObject().putObject("SpecialToken").put("id", required(eos, "add_eos_token", "eos_token"))
                            .put("type_id", typeId);
                }
            }
        }
        if (addBos) {
            special(specials, bos.get());
        }
        if (addEos) {
            special(specials, eos.get());
        }
        root.set("post_processor", processor);
    }

    private void special(ObjectNode specials, String token) {
        int id = tokenId(token).orElseThrow(() -> new TokenizerException(file + " has no token " + token));
        ObjectNode entry = specials.putObject(token).put("id", token);
        entry.putArray("ids").add(id);
        entry.putArray("tokens").add(token);
    }

    private String required(Optional<String> token, String flag, String name) {
        return token.orElseThrow(() -> new TokenizerException(TokenizerConfig.FILE + " sets " + flag
                + " = true but has no " + name + " (next to " + file + ")"));
    }

    private boolean templateStartsWith(String token) {
        JsonNode single = singleTemplate();
        return single.size() > 0 && token.equals(single.get(0).path("SpecialToken").path("id").asText(null));
    }

    private boolean templateEndsWith(String token) {
        JsonNode single = singleTemplate();
        return single.size() > 0
                && token.equals(single.get(single.size() - 1).path("SpecialToken").path("id").asText(null));
    }

    /** The {@code single} template of a TemplateProcessing post-processor, alone or inside a Sequence. */
    private JsonNode singleTemplate() {
        JsonNode processor = root.path("post_processor");
        if ("Sequence".equals(processor.path("type").asText())) {
            for (JsonNode p : processor.path("processors")) {
                if ("TemplateProcessing".equals(p.path("type").asText())) {
                    return p.path("single");
                }
            }
        }
        return processor.path("single");
    }
}
