package io.kindling.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What transformers reads from {@code tokenizer_config.json} (and {@code chat_template.jinja}, which takes
 * precedence over the config's template when present).
 *
 * @param specialTokens the named special tokens (bos_token, eos_token, ...) as strings, as transformers passes
 *     them to chat templates; {@code additional_special_tokens} as a list of strings
 * @param addBosToken {@code add_bos_token} when the file sets it
 * @param addEosToken {@code add_eos_token} when the file sets it
 * @param tokenizerClass {@code tokenizer_class}, which transformers 5 builds the tokenizer with
 * @param legacy {@code legacy} when the file sets it
 * @param addPrefixSpace {@code add_prefix_space} when the file sets it
 */
record TokenizerConfig(Map<String, Object> specialTokens, Optional<Boolean> addBosToken,
        Optional<Boolean> addEosToken, Optional<String> chatTemplate, boolean cleanUpTokenizationSpaces,
        Optional<String> tokenizerClass, Optional<Boolean> legacy, Optional<Boolean> addPrefixSpace) {

    static final String FILE = "tokenizer_config.json";
    static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

    private static final List<String> NAMED_TOKENS = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token");

    static TokenizerConfig load(Path modelDir) {
        Path file = modelDir.resolve(FILE);
        JsonNode root;
        try {
            root = Files.exists(file) ? new ObjectMapper().readTree(file.toFile()) : null;
        } catch (IOException e) {
            throw new TokenizerException("cannot read " + file + ": " + JsonFiles.problem(e), e);
        }
        if (root != null && !root.isObject()) {
            throw new TokenizerException(file + " is not a JSON object");
        }
        JsonNode config = root == null ? new ObjectMapper().createObjectNode() : root;

        Map<String, Object> special = new LinkedHashMap<>();
        for (String name : NAMED_TOKENS) {
            tokenContent(config.get(name)).ifPresent(content -> special.put(name, content));
        }
        JsonNode additional = config.get("additional_special_tokens");
        if (additional != null && additional.isArray()) {
            List<String> tokens = new ArrayList<>();
            additional.forEach(t -> tokenContent(t).ifPresent(tokens::add));
            special.put("additional_special_tokens", tokens);
        }
        JsonNode tokenizerClass = config.path("tokenizer_class");
        return new TokenizerConfig(Map.copyOf(special), flag(config, "add_bos_token"), flag(config, "add_eos_token"),
                chatTemplate(modelDir, config, file), config.path("clean_up_tokenization_spaces").asBoolean(false),
                tokenizerClass.isTextual() ? Optional.of(tokenizerClass.asText()) : Optional.empty(),
                flag(config, "legacy"), flag(config, "add_prefix_space"));
    }

    Optional<String> token(String name) {
        return Optional.ofNullable((String) specialTokens.get(name));
    }

    /** A token is a string or an AddedToken object {@code {"content": ...}}. */
    private static Optional<String> tokenContent(JsonNode node) {
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (node.isTextual()) {
            return Optional.of(node.asText());
        }
        JsonNode content = node.get("content");
        return content != null && content.isTextual() ? Optional.of(content.asText()) : Optional.empty();
    }

    private static Optional<Boolean> flag(JsonNode config, String name) {
        JsonNode node = config.get(name);
        return node != null && node.isBoolean() ? Optional.of(node.asBoolean()) : Optional.empty();
    }

    /** A template string, or a list of {name, template} of which transformers uses the one named "default". */
    private static Optional<String> chatTemplate(Path modelDir, JsonNode config, Path file) {
        Path jinja = modelDir.resolve(CHAT_TEMPLATE_FILE);
        if (Files.exists(jinja)) {
            try {
                return Optional.of(Files.readString(jinja));
            } catch (IOException e) {
                throw new TokenizerException("cannot read " + jinja + ": " + e.getMessage(), e);
            }
        }
        JsonNode template = config.get("chat_template");
        if (template == null || template.isNull()) {
            return Optional.empty();
        }
        if (template.isTextual()) {
            return Optional.of(template.asText());
        }
        if (template.isArray()) {
            for (JsonNode named : template) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return Optional.of(named.get("template").asText());
                }
            }
            throw new TokenizerException(file + ": chat_template lists several templates and none is named"
                    + " \"default\"");
        }
        throw new TokenizerException(file + ": chat_template is neither a string nor a list of templates");
    }
}
