package io.kindling.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * The bytes each token of a {@code tokenizer.json} stands for, as its decoder would produce them: byte-level BPE
 * (GPT-2's byte-to-character map undone), SentencePiece ({@code ▁} is a space, {@code <0xNN>} byte-fallback tokens
 * are one byte), else the token's UTF-8. Special added tokens have none (null): a constraint never allows them.
 */
final class TokenBytes {

    private static final String METASPACE = "\u2581";

    private TokenBytes() {
    }

    static byte[][] of(JsonNode root) {
        JsonNode model = root.path("model");
        JsonNode vocab = model.path("vocab");
        int size = 0;
        if (vocab.isObject()) {
            for (JsonNode id : vocab) {
                size = Math.max(size, id.asInt() + 1);
            }
        } else {
            size = vocab.size();
        }
        for (JsonNode added : root.path("added_tokens")) {
            size = Math.max(size, added.path("id").asInt() + 1);
        }
        boolean byteLevel = mentions(root.path("decoder"), "ByteLevel") || mentions(root.path("pre_tokenizer"),
                "ByteLevel");
        boolean byteFallback = model.path("byte_fallback").asBoolean(false) || mentions(root.path("decoder"),
                "ByteFallback");
        int[] byteOfChar = byteLevel ? gpt2ByteDecoder() : null;
        byte[][] bytes = new byte[size][];
        if (vocab.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                bytes[e.getValue().asInt()] = decode(e.getKey(), byteOfChar, byteFallback);
            }
        } else {
            for (int i = 0; i < vocab.size(); i++) {
                bytes[i] = decode(vocab.get(i).path(0).asText(), byteOfChar, byteFallback);
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt();
            bytes[id] = added.path("special").asBoolean(false) ? null
                    : added.path("content").asText().getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }

    private static byte[] decode(String token, int[] byteOfChar, boolean byteFallback) {
        if (byteFallback && token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            return new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)};
        }
        if (byteOfChar == null) {
            return token.replace(METASPACE, " ").getBytes(StandardCharsets.UTF_8);
        }
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= byteOfChar.length || byteOfChar[c] < 0) {
                return token.getBytes(StandardCharsets.UTF_8); // not a byte-level token after all
            }
            out[i] = (byte) byteOfChar[c];
        }
        return out;
    }

    /**
     * Whether decoding drops the first space of a text (SentencePiece's {@code Strip} decoder, the prefix space
     * undone): a generated text then lacks its first token's leading space.
     */
    static boolean stripsLeadingSpace(JsonNode root) {
        for (JsonNode step : root.path("decoder").path("decoders")) {
            if ("Strip".equals(step.path("type").asText()) && " ".equals(step.path("content").asText())
                    && step.path("start").asInt() > 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean mentions(JsonNode node, String type) {
        if (node.isMissingNode() || node.isNull()) {
            return false;
        }
        if (type.equals(node.path("type").asText())) {
            return true;
        }
        for (String list : new String[] {"decoders", "pretokenizers"}) {
            for (JsonNode child : node.path(list)) {
                if (mentions(child, type)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** GPT-2's {@code bytes_to_unicode}, inverted: the byte each of its 256 characters stands for (-1: none). */
    private static int[] gpt2ByteDecoder() {
        int[] byteOfChar = new int[512];
        java.util.Arrays.fill(byteOfChar, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteOfChar[printable ? b : 256 + n++] = b;
        }
        return byteOfChar;
    }
}
