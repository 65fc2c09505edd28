package io.kindling.tokenizer;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Conversations the transformers references do not cover (tool calls with tojson arguments, tool responses,
 * reasoning content, CJK and emoji), as Jinja2 3.1 renders them in transformers' chat-template environment
 * ({@code tokenizers/chat_jinja2.json}).
 */
class Jinja2ChatTest {

    @Test
    void richConversationsRenderAsJinja2() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode cases = mapper.readTree(Fixtures.resource("tokenizers/chat_jinja2.json").toFile());
        assertTrue(cases.size() >= 20);
        Map<String, Tokenizer> tokenizers = new HashMap<>();
        List<Executable> checks = new ArrayList<>();
        for (JsonNode c : cases) {
            List<Map<String, Object>> messages = mapper.convertValue(c.get("messages"), new TypeReference<>() {
            });
            boolean generationPrompt = c.get("add_generation_prompt").asBoolean();
            String name = c.get("tokenizer").asText();
            Tokenizer t = tokenizers.computeIfAbsent(name, n -> Tokenizer.load(Fixtures.tokenizer(n)));
            checks.add(() -> assertEquals(c.get("rendered").asText(), t.applyChatTemplate(messages, generationPrompt),
                    name + " " + messages));
        }
        try {
            assertAll(checks);
        } finally {
            tokenizers.values().forEach(Tokenizer::close);
        }
    }
}
