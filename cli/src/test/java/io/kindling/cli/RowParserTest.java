package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.kindling.sampling.EarlyStopping;
import io.kindling.sampling.SamplingParams;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class RowParserTest {

    private static final SamplingParams DEFAULTS = SamplingParams.builder().build();
    private final RowParser parser = new RowParser(DEFAULTS, 1000);

    private InputRow parse(String json) {
        try {
            return parser.parse(new RawRow.Fields(2, "line 3", Json.MAPPER.readTree(json)));
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    private InputRow.Spec spec(String json) {
        return assertInstanceOf(InputRow.Spec.class, parse(json));
    }

    private String error(String json) {
        InputRow.Rejected rejected = assertInstanceOf(InputRow.Rejected.class, parse(json));
        assertEquals(2, rejected.index());
        return rejected.error();
    }

    @Test
    void textPromptWithEveryOverride() {
        InputRow.Spec row = spec("""
                {"id": "a-1", "prompt": "Hello", "max_tokens": 32, "min_tokens": 2, "temperature": 0.7,
                 "top_p": 0.9, "top_k": 40, "min_p": 0.05, "seed": 7, "stop": ["\\n\\n", "END"],
                 "stop_token_ids": [2, 3], "ignore_eos": true, "logprobs": 5, "n": 1,
                 "repetition_penalty": 1.1, "presence_penalty": 0.5, "frequency_penalty": -0.5}""");
        assertEquals("line 3", row.where());
        assertEquals("\"a-1\"", row.id().toString());
        assertEquals(new Prompt.Text("Hello"), row.prompt());
        assertEquals(new SamplingParams(32, 2, 0.7, 0.9, 40, 0.05, OptionalLong.of(7), List.of("\n\n", "END"),
                List.of(2, 3), true, OptionalInt.of(5), 1, 1.1, 0.5, -0.5, 0, 1.0, EarlyStopping.FALSE,
                Optional.empty()), row.params());
    }

    @Test
    void beamSearchFields() {
        SamplingParams p = spec("""
                {"prompt": "x", "beam_width": 4, "n": 2, "length_penalty": 0.5, "early_stopping": "never"}""")
                .params();
        assertEquals(4, p.beamWidth());
        assertEquals(2, p.n());
        assertEquals(0.5, p.lengthPenalty());
        assertEquals(EarlyStopping.NEVER, p.earlyStopping());
        assertEquals(EarlyStopping.TRUE, spec("{\"prompt\": \"x\", \"early_stopping\": true}").params().earlyStopping());
    }

    @Test
    void promptTokenIdsAndMessages() {
        Prompt.TokenIds ids = assertInstanceOf(Prompt.TokenIds.class,
                spec("{\"id\": 1, \"prompt_token_ids\": [1, 999, 0]}").prompt());
        assertArrayEquals(new int[] {1, 999, 0}, ids.ids());

        Prompt.Chat chat = assertInstanceOf(Prompt.Chat.class, spec("""
                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}"""
        ).prompt());
        assertEquals(List.of(Map.of("role", "system", "content", "Be brief."), Map.of("role", "user", "content", "Hi")),
                chat.messages());
    }

    @Test
    void nullCountsAsAbsentAndIntegralFloatsAreIntegers() {
        InputRow.Spec row = spec("{\"prompt\": \"x\", \"messages\": null, \"temperature\": null, \"max_tokens\": 64.0}");
        assertEquals(64, row.params().maxTokens());
        assertEquals(DEFAULTS.temperature(), row.params().temperature());
        assertEquals("null", row.id().toString());
    }

    @Test
    void idIsEchoedVerbatimEvenOnARejectedRow() {
        assertEquals("{\"k\":[1.10,2]}", spec("{\"id\": {\"k\": [1.10, 2]}, \"prompt\": \"x\"}").id().toString());
        InputRow.Rejected rejected = assertInstanceOf(InputRow.Rejected.class,
                parse("{\"id\": 12345678901234567890, \"prompt\": \"\"}"));
        assertEquals("12345678901234567890", rejected.id().toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"prompt": "x", "tempurature": 0.5}          | line 3: unknown field 'tempurature'
            {"prompt": "x", "messages": [{"role": "user", "content": "y"}]} | line 3: both prompt and messages: give exactly one of prompt, prompt_token_ids or messages
            {"prompt": "x", "prompt_token_ids": [1]}     | line 3: both prompt and prompt_token_ids: give exactly one of prompt, prompt_token_ids or messages
            {"id": 1}                                    | line 3: no prompt: give exactly one of prompt, prompt_token_ids or messages
            {"prompt": ""}                               | line 3: prompt is empty
            {"prompt_token_ids": []}                     | line 3: prompt_token_ids is empty
            {"messages": []}                             | line 3: messages is empty
            {"prompt": 42}                               | line 3: prompt must be a string, got 42
            {"prompt_token_ids": "1 2 3"}                | line 3: prompt_token_ids must be a list of integers, got "1 2 3"
            {"prompt_token_ids": [1, 2.5]}               | line 3: prompt_token_ids[1] must be an integer, got 2.5
            {"prompt_token_ids": [5, 1000]}              | line 3: prompt_token_ids[1] = 1000 is outside the vocabulary [0, 1000)
            {"prompt_token_ids": [-1]}                   | line 3: prompt_token_ids[0] = -1 is outside the vocabulary [0, 1000)
            {"messages": "hi"}                           | line 3: messages must be a list of {"role", "content"} objects, got "hi"
            {"messages": [{"content": "hi"}]}            | line 3: messages[0] must be an object with a string "role", got {"content":"hi"}
            {"prompt": "x", "temperature": "hot"}        | line 3: temperature must be a number, got "hot"
            {"prompt": "x", "max_tokens": 1.5}           | line 3: max_tokens must be an integer, got 1.5
            {"prompt": "x", "max_tokens": 3000000000}    | line 3: max_tokens is out of range: 3000000000
            {"prompt": "x", "ignore_eos": "yes"}         | line 3: ignore_eos must be true or false, got "yes"
            {"prompt": "x", "stop": [1]}                 | line 3: stop[0] must be a string, got 1
            {"prompt": "x", "stop": 1}                   | line 3: stop must be a string or a list of strings, got 1
            {"prompt": "x", "temperature": -1}           | line 3: invalid temperature: must be >= 0, got -1.0
            {"prompt": "x", "top_p": 0}                  | line 3: invalid top_p: must be in (0, 1], got 0.0
            {"prompt": "x", "max_tokens": 0}             | line 3: invalid max_tokens: must be at least 1, got 0
            {"prompt": "x", "n": 0}                      | line 3: invalid n: must be at least 1, got 0
            {"prompt": "x", "stop": ""}                  | line 3: invalid stop: stop strings must be non-empty
            {"prompt": "x", "beam_width": 2, "n": 3}     | line 3: invalid n: beam search returns at most beam_width (2) beams, got 3
            {"prompt": "x", "beam_width": 2, "stop": "."} | line 3: invalid stop: is not supported with beam search
            {"prompt": "x", "early_stopping": "soon"}    | line 3: early_stopping must be true, false or "never", got "soon"
            [1, 2]                                       | line 3: expected a JSON object, got array
            """)
    void badRowsAreRejectedNamingTheLineAndField(String json, String message) {
        assertEquals(message, error(json));
    }

    @Test
    void unreadableRowsKeepTheirProblem() {
        InputRow row = parser.parse(new RawRow.Unreadable(4, "line 5", "empty line"));
        InputRow.Rejected rejected = assertInstanceOf(InputRow.Rejected.class, row);
        assertEquals("line 5: empty line", rejected.error());
        assertEquals("null", rejected.id().toString());
    }

    @Test
    void generationConfigThenFlagsThenTheRowsOwnFields() {
        SamplingParams generationConfig = SamplingParams.builder().temperature(0.6).topP(0.9).topK(20).build();
        GenerateCommand command = new GenerateCommand();
        new CommandLine(command).parseArgs("--model", "m", "--input", "in.jsonl", "--output", "out.jsonl",
                "--temperature", "0.8", "--max-tokens", "32", "--seed", "5");
        SamplingParams defaults = command.samplingFlags.applyTo(generationConfig);

        InputRow row = new RowParser(defaults, 100).parse(new RawRow.Fields(0, "line 1",
                Json.MAPPER.createObjectNode().put("prompt", "x").put("top_p", 0.5).put("seed", 9)));
        SamplingParams params = assertInstanceOf(InputRow.Spec.class, row).params();

        assertEquals(0.8, params.temperature()); // flag over generation config
        assertEquals(0.5, params.topP()); // row over generation config
        assertEquals(20, params.topK()); // generation config kept
        assertEquals(32, params.maxTokens()); // flag over the built-in default
        assertEquals(OptionalLong.of(9), params.seed()); // row over flag
    }
}
