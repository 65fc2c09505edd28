package io.kindling.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kindling.options.Option;
import io.kindling.sampling.EarlyStopping;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The typed reading both connectors share: values as the catalogue types them, errors naming the key as given. */
class OptionValuesTest {

    private static OptionValues values() {
        return new OptionValues(Option::snakeName, Long::parseLong) { };
    }

    @Test
    void readsEachTypeAsTheCatalogueGivesIt() {
        OptionValues v = values();
        v.put(Option.MAX_TOKENS, " 64 ", "max-tokens");
        v.put(Option.TEMPERATURE, "0.5", "temperature");
        v.put(Option.IGNORE_EOS, "TRUE", "ignoreEos");
        v.put(Option.STOP, " a,b ,,c", "stop");
        v.put(Option.STOP_TOKEN_IDS, "1, 2,3", "stop_token_ids");
        v.put(Option.EARLY_STOPPING, "Never", "early_stopping");
        v.put(Option.KV_CACHE_MEMORY, "1024", "kv-cache-memory");
        assertEquals(64, v.integer(Option.MAX_TOKENS));
        assertEquals(0.5, v.decimal(Option.TEMPERATURE));
        assertEquals(true, v.bool(Option.IGNORE_EOS));
        assertEquals(List.of(" a", "b ", "c"), v.strings(Option.STOP)); // stop strings keep their spaces
        assertEquals(List.of(1, 2, 3), v.integers(Option.STOP_TOKEN_IDS));
        assertEquals(EarlyStopping.NEVER, v.earlyStopping());
        assertEquals(1024, v.size(Option.KV_CACHE_MEMORY, 0));
        assertNull(v.integer(Option.TOP_K));
        assertEquals(7, v.integer(Option.TOP_K, 7));
    }

    @Test
    void aBadValueNamesTheKeyAsGivenWithTheValue() {
        OptionValues v = values();
        v.put(Option.MAX_TOKENS, "many", "max-tokens");
        v.put(Option.BLOCK_SIZE, "0", "blockSize");
        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> v.integer(Option.MAX_TOKENS));
        assertEquals("max-tokens", e.key());
        assertEquals("must be an integer, got 'many'", e.problem());
        assertEquals("option 'max-tokens' must be an integer, got 'many'", e.getMessage());
        // the engine's options are range-checked here; sampling ranges are SamplingParams' own checks
        assertEquals("option 'blockSize' must be positive, got '0'", assertThrows(InvalidOptionException.class,
                () -> v.integer(Option.BLOCK_SIZE)).getMessage());
    }

    @Test
    void atMostOneConstraintAndItIsCheckedWhenRead() {
        OptionValues one = values();
        one.put(Option.GUIDED_CHOICE, "[\"yes\", \"no\"]", "guided_choice");
        assertEquals("choice", one.structuredOutput().kind());
        assertEquals(one.structuredOutput(), one.samplingOverrides().structuredOutput());

        OptionValues two = values();
        two.put(Option.GUIDED_REGEX, "[a-z]+", "guidedRegex");
        two.put(Option.GUIDED_CHOICE, "[\"yes\"]", "guided_choice");
        assertEquals("options 'guidedRegex' and 'guided_choice' are two constraints; give at most one of "
                + "response_format, guided_regex or guided_choice", assertThrows(InvalidOptionException.class,
                two::structuredOutput).getMessage());
    }
}
