package io.kindling.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Set;

/**
 * A lower bound on how many tokens a text encodes to, from its UTF-8 length alone, so that a prompt that cannot
 * fit the context is refused without tokenizing it whole (a 10 MB prompt took 30 s to become 3.2 M tokens).
 *
 * <p>Each token stands for at most as many input bytes as its own longest spelling in the vocabulary or the added
 * tokens (a vocabulary spells a byte with one or more bytes: {@code Ġ}, {@code ▁}, {@code <0x0A>}). That holds when
 * no step of the pipeline drops input: normalizers may shrink text by a known factor (Unicode normalization and
 * lowercasing at most 3x: a Hangul syllable from three jamo, the Kelvin sign to "k"; a string replacement by its
 * pattern's length over its content's), pre-tokenizers must keep every character, and the model must have a token
 * for every byte (byte fallback, or byte-level pre-tokenization). Any other pipeline (whitespace-dropping
 * pre-tokenizers, WordPiece's whole-word unknowns, fused unknowns) gets no bound.
 */
final class TokenBound {

    private static final double UNICODE_SHRINK = 3;
    private static final Set<String> KEEPING_PRE_TOKENIZERS = Set.of("ByteLevel", "Metaspace", "Digits",
            "UnicodeScripts");

    /** Most input bytes one token stands for; 0 when the pipeline allows no bound. */
    private final double maxBytesPerToken;

    private TokenBound(double maxBytesPerToken) {
        this.maxBytesPerToken = maxBytesPerToken;
    }

    static TokenBound of(JsonNode tokenizerJson) {
        JsonNode model = tokenizerJson.path("model");
        boolean byteLevel = usesByteLevel(tokenizerJson.path("pre_tokenizer"));
        boolean everyByteHasAToken = "BPE".equals(model.path("type").asText())
                && (model.path("byte_fallback").asBoolean(false) || byteLevel);
        double shrink = shrink(tokenizerJson.path("normalizer"));
        if (!everyByteHasAToken || shrink == 0 || !keepsInput(tokenizerJson.path("pre_tokenizer"))) {
            return new TokenBound(0);
        }
        int longest = 1;
        JsonNode vocab = model.path("vocab");
        for (Iterator<String> it = vocab.fieldNames(); it.hasNext(); ) {
            longest = Math.max(longest, utf8Length(it.next()));
        }
        for (JsonNode added : tokenizerJson.path("added_tokens")) {
            longest = Math.max(longest, utf8Length(added.path("content").asText("")));
        }
        return new TokenBound(longest * shrink);
    }

    /** At least this many tokens, special tokens not counted; 0 when there is no bound. */
    long minTokens(String text) {
        return maxBytesPerToken == 0 ? 0 : (long) Math.ceil(utf8Length(text) / maxBytesPerToken);
    }

    /** By how much a normalizer may shrink text (1 = never), or 0 when it may drop any amount. */
    private static double shrink(JsonNode normalizer) {
        if (normalizer.isMissingNode() || normalizer.isNull()) {
            return 1;
        }
        switch (normalizer.path("type").asText()) {
            case "Sequence" -> {
                double product = 1;
                for (JsonNode step : normalizer.path("normalizers")) {
                    product *= shrink(step);
                }
                return product;
            }
            case "Prepend" -> {
                return 1;
            }
            case "NFC", "NFD", "NFKC", "NFKD", "Lowercase" -> {
                return UNICODE_SHRINK;
            }
            case "Replace" -> {
                JsonNode pattern = normalizer.path("pattern").path("String");
                int content = utf8Length(normalizer.path("content").asText(""));
                return pattern.isTextual() && content > 0
                        ? Math.max(1, (double) utf8Length(pattern.asText()) / content) : 0;
            }
            default -> {
                return 0;
            }
        }
    }

    private static boolean keepsInput(JsonNode preTokenizer) {
        if (preTokenizer.isMissingNode() || preTokenizer.isNull()) {
            return true;
        }
        String type = preTokenizer.path("type").asText();
        if (type.equals("Sequence")) {
            for (JsonNode step : preTokenizer.path("pretokenizers")) {
                if (!keepsInput(step)) {
                    return false;
                }
            }
            return true;
        }
        if (type.equals("Split")) {
            return !"Removed".equals(preTokenizer.path("behavior").asText());
        }
        return KEEPING_PRE_TOKENIZERS.contains(type);
    }

    private static boolean usesByteLevel(JsonNode preTokenizer) {
        if ("ByteLevel".equals(preTokenizer.path("type").asText())) {
            return true;
        }
        for (JsonNode step : preTokenizer.path("pretokenizers")) {
            if (usesByteLevel(step)) {
                return true;
            }
        }
        return false;
    }

    static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
