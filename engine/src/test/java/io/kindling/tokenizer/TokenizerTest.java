package io.kindling.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {

    @Test
    void llama31AddsBeginOfText() {
        try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer("llama3_1"))) {
            assertArrayEquals(new int[] {128000, 9906, 1917}, t.encode("Hello world"));
            assertArrayEquals(new int[] {9906, 1917}, t.encode("Hello world", false));
            assertEquals(OptionalInt.of(128000), t.bosTokenId());
            assertEquals(OptionalInt.of(128009), t.eosTokenId());
            assertEquals("<|begin_of_text|>Hello world", t.decode(new int[] {128000, 9906, 1917}, false));
            assertEquals("Hello world", t.decode(new int[] {128000, 9906, 1917}, true));
        }
    }

    @Test
    void qwen3AddsNoBos() {
        try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer("qwen3"))) {
            assertArrayEquals(t.encode("Hello world", false), t.encode("Hello world"));
            assertEquals(OptionalInt.empty(), t.bosTokenId());
            assertEquals(OptionalInt.of(151645), t.eosTokenId());
        }
    }

    @Test
    void cleanUpTokenizationSpacesFollowsTheConfig() {
        // Llama 3.1's config asks for the clean-up, Qwen3's does not.
        try (Tokenizer llama = Tokenizer.load(Fixtures.tokenizer("llama3_1"));
                Tokenizer qwen = Tokenizer.load(Fixtures.tokenizer("qwen3"))) {
            String text = "Hi , there . I do n't know !";
            assertEquals("Hi, there. I don't know!", llama.decode(llama.encode(text, false), true));
            assertEquals(text, qwen.decode(qwen.encode(text, false), true));
        }
    }

    @Test
    void longPromptIsNotTruncated() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            text.append("token number ").append(i).append(' ');
        }
        for (String name : List.of("llama3_1", "llama2", "qwen3")) {
            try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer(name))) {
                int[] ids = t.encode(text.toString(), false);
                assertTrue(ids.length > 9000, name + " gave " + ids.length + " ids");
                assertEquals(text.toString(), t.decode(ids, true), name);
            }
        }
    }

    @Test
    void addBosAndEosTokenFlagsRewriteThePostProcessor(@TempDir Path dir) throws IOException {
        Path source = Fixtures.tokenizer("llama3_1");
        Files.copy(source.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        String config = Files.readString(source.resolve("tokenizer_config.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"),
                config.replaceFirst("\\{", "{\"add_eos_token\": true,"));
        try (Tokenizer t = Tokenizer.load(dir)) {
            // transformers 5 rebuilds the post-processor from both flags, the missing add_bos_token counting as
            // false: the BOS that tokenizer.json's own template adds is gone.
            assertArrayEquals(new int[] {9906, 1917, 128009}, t.encode("Hello world"));
            assertArrayEquals(new int[] {9906, 1917}, t.encode("Hello world", false));
        }
        Files.writeString(dir.resolve("tokenizer_config.json"),
                config.replaceFirst("\\{", "{\"add_bos_token\": false,"));
        try (Tokenizer t = Tokenizer.load(dir)) {
            assertArrayEquals(new int[] {9906, 1917}, t.encode("Hello world"));
        }
        Files.writeString(dir.resolve("tokenizer_config.json"),
                config.replaceFirst("\\{", "{\"add_bos_token\": true, \"add_eos_token\": true,"));
        try (Tokenizer t = Tokenizer.load(dir)) {
            assertArrayEquals(new int[] {128000, 9906, 1917, 128009}, t.encode("Hello world"));
        }
    }

    @Test
    void missingTokenizerJsonNamesTheFile(@TempDir Path dir) {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());
    }

    @Test
    void malformedTokenizerJsonNamesTheFile(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": ");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonsense\"}}");
        e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());
    }

    @Test
    void chatWithoutTemplateIsAClearError() {
        try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer("llama2"))) {
            assertFalse(t.hasChatTemplate());
            TokenizerException e = assertThrows(TokenizerException.class,
                    () -> t.applyChatTemplate(List.of(Map.of("role", "user", "content", "Hi")), true));
            assertTrue(e.getMessage().contains("no chat template"), e.getMessage());
        }
    }

    @Test
    void chatTemplateFileTakesPrecedence(@TempDir Path dir) throws IOException {
        Path source = Fixtures.tokenizer("llama2");
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(source.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(dir.resolve("chat_template.jinja"),
                "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}\n");
        try (Tokenizer t = Tokenizer.load(dir)) {
            List<Map<String, Object>> chat = List.of(Map.of("role", "user", "content", "Hi"));
            assertEquals("<s>[user] Hi", t.applyChatTemplate(chat, true));
            // The template supplies the BOS; encodeChat adds no second one.
            assertArrayEquals(t.encode("<s>[user] Hi", false), t.encodeChat(chat, Integer.MAX_VALUE));
            assertEquals(1, t.encodeChat(chat, Integer.MAX_VALUE)[0]);
            assertTrue(t.encodeChat(chat, Integer.MAX_VALUE)[1] != 1);
        }
    }

    @Test
    void encodeChatRendersWithGenerationPromptAndAddsNoSpecialTokens() {
        try (Tokenizer t = Tokenizer.load(Fixtures.tokenizer("llama3_1"))) {
            List<Map<String, Object>> chat = List.of(Map.of("role", "user", "content", " Hello world\n"));
            String rendered = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello world<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n";
            assertEquals(rendered, t.applyChatTemplate(chat, true));
            int[] ids = t.encodeChat(chat, Integer.MAX_VALUE);
            assertArrayEquals(t.encode(rendered, false), ids);
            assertEquals(128000, ids[0]);
            assertEquals(128006, ids[1]);
        }
    }
}
