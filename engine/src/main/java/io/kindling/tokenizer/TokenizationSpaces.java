package io.kindling.tokenizer;

/**
 * transformers' {@code clean_up_tokenization}: the spaces before punctuation and English contractions that
 * decode removes when the config sets {@code clean_up_tokenization_spaces}. Applied as the same ten
 * replace-alls, in the same order.
 */
final class TokenizationSpaces {

    private static final String[][] REPLACEMENTS = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
    };

    /**
     * Text ending in a proper prefix of one of these may still become part of a replacement once more text
     * follows. Besides the sources themselves: the " ' " replacement turns " n ' t" into " n't" and "  ' s" into
     * " 's", which later replacements then match.
     */
    private static final String[] MATCH_SOURCES = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've",
        " 're", " n ' t", "  ' m", "  ' s", "  ' ve", "  ' re"};

    private TokenizationSpaces() {
    }

    static String clean(String text) {
        String s = text;
        for (String[] r : REPLACEMENTS) {
            s = s.replace(r[0], r[1]);
        }
        return s;
    }

    /**
     * The longest prefix of {@code raw} whose cleaned form no later text can change: it must not end in a
     * proper prefix of a replacement's source. Then {@code clean(raw) == clean(prefix) + clean(rest)}.
     */
    static int stablePrefixLength(String raw) {
        int cut = raw.length();
        while (cut > 0 && endsInPartialMatch(raw, cut)) {
            cut--;
        }
        return cut;
    }

    private static boolean endsInPartialMatch(String raw, int end) {
        for (String source : MATCH_SOURCES) {
            for (int len = Math.min(source.length() - 1, end); len >= 1; len--) {
                if (raw.startsWith(source.substring(0, len), end - len)) {
                    return true;
                }
            }
        }
        return false;
    }
}
