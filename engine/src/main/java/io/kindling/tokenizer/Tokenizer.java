package io.kindling.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Hugging Face tokenizer of a model directory ({@code tokenizer.json} + {@code tokenizer_config.json}), with its chat
 * template. Thread-safe.
 */
public final class Tokenizer implements AutoCloseable {

    /**
     * The native tokenizer is built from tokenizer.json alone: DJL's own reading of tokenizer_config.json
     * (text lowercasing, prefix spaces, decode clean-up) would duplicate or contradict what this class does
     * as transformers does it. Truncation and padding are off (DJL's default truncates to 512 tokens).
     */
    private static final Map<String, String> NATIVE_OPTIONS = Map.of(
            "addSpecialTokens", "false", "truncation", "false", "padding", "false");

    static {
        // DJL probes the EC2 metadata service and reports usage on every tokenizer load unless told not to.
        setUnlessGiven("OPT_OUT_TRACKING", "true");
        // The jar carries only the CPU build of the native tokenizer. On a host with CUDA, DJL would look for a CUDA
        // build instead and try to download it: a GPU host without internet then fails to load any tokenizer (seen
        // on an H100 host, 2026-12-06: "Failed to load Huggingface native library").
        setUnlessGiven("RUST_FLAVOR", "cpu");
    }

    /** Sets a DJL setting (read from the environment or system properties) that neither already gives. */
    private static void setUnlessGiven(String name, String value) {
        if (System.getProperty(name) == null && System.getenv(name) == null) {
            System.setProperty(name, value);
        }
    }

    /** Null for {@link #none()}. */
    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerConfig config;
    private final OptionalInt bosTokenId;
    private final OptionalInt eosTokenId;
    private final ChatTemplate chatTemplate;
    private final TokenBound bound;
    private final byte[][] tokenBytes;
    private final boolean stripsLeadingSpace;

    private Tokenizer(HuggingFaceTokenizer tokenizer, TokenizerConfig config, OptionalInt bosTokenId,
            OptionalInt eosTokenId, TokenBound bound, byte[][] tokenBytes, boolean stripsLeadingSpace) {
        this.tokenizer = tokenizer;
        this.tokenBytes = tokenBytes;
        this.stripsLeadingSpace = stripsLeadingSpace;
        this.bound = bound;
        this.config = config;
        this.bosTokenId = bosTokenId;
        this.eosTokenId = eosTokenId;
        // no method reference: linking one loads ChatTemplate, hence jinjava, which a run without tokenizer (the
        // GPU machine's bundle) does not carry
        this.chatTemplate = config.chatTemplate().isPresent() ? new ChatTemplate(config.chatTemplate().get()) : null;
    }

    /** @throws TokenizerException naming the file and the problem */
    public static Tokenizer load(Path modelDir) {
        TokenizerJson json = TokenizerJson.read(modelDir);
        TokenizerConfig config = TokenizerConfig.load(modelDir);
        json.rebuildAsLlamaTokenizer(config);
        json.applySpecialTokenFlags(config);
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(json.json().getBytes(StandardCharsets.UTF_8)), NATIVE_OPTIONS);
        } catch (IOException | RuntimeException e) {
            throw new TokenizerException("cannot load " + json.file() + ": " + e.getMessage(), e);
        }
        return new Tokenizer(tokenizer, config, idOf(json, config, "bos_token"), idOf(json, config, "eos_token"),
                json.tokenBound(), json.tokenBytes(), json.stripsLeadingSpace());
    }

    /**
     * The tokenizer of a model directory, or {@link #none()} when it has no tokenizer.json: such a model serves
     * token ids only, as vLLM's {@code skip_tokenizer_init}.
     *
     * @throws TokenizerException when a tokenizer file is there but cannot be loaded
     */
    public static Tokenizer forModel(Path modelDir) {
        return Files.exists(modelDir.resolve(TokenizerJson.FILE)) ? load(modelDir) : none();
    }

    /**
     * No tokenizer, for an engine fed token ids only (a model directory without tokenizer.json, a benchmark on
     * random weights): outputs carry token ids and empty text, and encoding fails.
     */
    public static Tokenizer none() {
        TokenizerConfig config = new TokenizerConfig(Map.of(), Optional.empty(), Optional.empty(), Optional.empty(),
                false, Optional.empty(), Optional.empty(), Optional.empty());
        return new Tokenizer(null, config, OptionalInt.empty(), OptionalInt.empty(), null, new byte[0][], false);
    }

    /**
     * The vocabulary of a model directory's tokenizer.json as bytes, without the native tokenizer: enough for
     * structured output's masks over token ids (a benchmark on random weights), not for text, which stays empty.
     */
    public static Tokenizer vocabularyOnly(Path modelDir) {
        TokenizerConfig config = new TokenizerConfig(Map.of(), Optional.empty(), Optional.empty(), Optional.empty(),
                false, Optional.empty(), Optional.empty(), Optional.empty());
        TokenizerJson json = TokenizerJson.read(modelDir);
        return new Tokenizer(null, config, OptionalInt.empty(), OptionalInt.empty(), null, json.tokenBytes(),
                json.stripsLeadingSpace());
    }

    private static OptionalInt idOf(TokenizerJson json, TokenizerConfig config, String name) {
        return config.token(name).map(json::tokenId).orElse(OptionalInt.empty());
    }

    /** Encodes with the special tokens (BOS, ...) the tokenizer's configuration adds. */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /**
     * {@link #encode(String)} for a prompt that must stay under {@code maxTokens} tokens: one whose length alone
     * proves it cannot is refused without being tokenized, so a huge row costs a length check, not a tokenization.
     *
     * @throws PromptTooLongException for such a prompt
     */
    public int[] encodePrompt(String text, int maxTokens) {
        return encodeWithin(text, true, maxTokens);
    }

    private int[] encodeWithin(String text, boolean addSpecialTokens, int maxTokens) {
        requireTokenizer();
        long minTokens = bound.minTokens(text);
        if (minTokens >= maxTokens) {
            throw new PromptTooLongException(TokenBound.utf8Length(text), minTokens, maxTokens - 1);
        }
        return encode(text, addSpecialTokens);
    }

    public int[] encode(String text, boolean addSpecialTokens) {
        requireTokenizer();
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    /** False for {@link #none()}: text can be neither encoded nor decoded. */
    public boolean isAvailable() {
        return tokenizer != null;
    }

    private void requireTokenizer() {
        if (tokenizer == null) {
            throw new TokenizerException("the model has no " + TokenizerJson.FILE
                    + ", so prompts must be token ids (prompt_token_ids)");
        }
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        String raw = decodeRaw(ids, 0, ids.length, skipSpecialTokens);
        return config.cleanUpTokenizationSpaces() ? TokenizationSpaces.clean(raw) : raw;
    }

    /** The tokenizers library's decode of {@code ids[from, to)}, before transformers' clean-up of spaces. */
    String decodeRaw(int[] ids, int from, int to, boolean skipSpecialTokens) {
        if (tokenizer == null) {
            return "";
        }
        long[] window = new long[to - from];
        for (int i = from; i < to; i++) {
            window[i - from] = ids[i];
        }
        return tokenizer.decode(window, skipSpecialTokens);
    }

    boolean cleansUpTokenizationSpaces() {
        return config.cleanUpTokenizationSpaces();
    }

    public boolean hasChatTemplate() {
        return chatTemplate != null;
    }

    /**
     * Renders {@code messages} (each a map with {@code role}, {@code content}, ...) as transformers'
     * {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)} would.
     *
     * @throws TokenizerException when there is no template or it fails (raise_exception included)
     */
    public String applyChatTemplate(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        requireTokenizer();
        if (chatTemplate == null) {
            throw new TokenizerException("this tokenizer has no chat template (" + TokenizerConfig.FILE
                    + " sets no chat_template and there is no " + TokenizerConfig.CHAT_TEMPLATE_FILE + ")");
        }
        // As transformers: the special tokens map, then messages, tools, documents and add_generation_prompt.
        Map<String, Object> variables = new HashMap<>(config.specialTokens());
        variables.put("messages", messages);
        variables.put("tools", null);
        variables.put("documents", null);
        variables.put("add_generation_prompt", addGenerationPrompt);
        return chatTemplate.render(variables);
    }

    /**
     * The ids of the rendered conversation with a generation prompt; the template supplies special tokens. As
     * {@link #encodePrompt}, a rendering too long for {@code maxTokens} is refused without being tokenized.
     */
    public int[] encodeChat(List<Map<String, Object>> messages, int maxTokens) {
        return encodeWithin(applyChatTemplate(messages, true), false, maxTokens);
    }

    /**
     * A detokenizer for one sequence's generated tokens. Its text is {@code decode(generated, skipSpecialTokens)},
     * which transformers computes without the prompt, so the prompt only documents the call site.
     */
    public IncrementalDetokenizer newDetokenizer(int[] promptTokenIds, boolean skipSpecialTokens) {
        return new IncrementalDetokenizer(this, skipSpecialTokens);
    }

    /**
     * Per token id, the bytes it decodes to (null for special tokens), which structured output's automata read.
     * Shared: not to be modified.
     */
    public byte[][] tokenBytes() {
        return tokenBytes;
    }

    /** Whether a generated text lacks its first token's leading space (SentencePiece's prefix space undone). */
    public boolean stripsLeadingSpace() {
        return stripsLeadingSpace;
    }

    public OptionalInt bosTokenId() {
        return bosTokenId;
    }

    public OptionalInt eosTokenId() {
        return eosTokenId;
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
