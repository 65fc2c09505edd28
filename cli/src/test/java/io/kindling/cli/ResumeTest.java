package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate --resume}: the rows an interrupted run wrote are kept as they are, the rest generated once. */
class ResumeTest {

    @TempDir
    Path dir;

    final StringWriter err = new StringWriter();

    int run(Path in, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", DataSafetyTest.MODEL.toString(), "--input",
                in.toString(), "--output", out.toString(), "--device", "cpu", "--max-tokens", "4",
                "--max-num-seqs", "2"));
        args.addAll(Arrays.asList(extra));
        err.getBuffer().setLength(0);
        return Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                args.toArray(String[]::new));
    }

    /** Five rows: greedy, seeded sampling, a bad line, n = 2 and logprobs. */
    Path input() throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, """
                {"id": "a", "prompt_token_ids": [1, 330, 331], "temperature": 0}
                {"id": "b", "prompt_token_ids": [1, 400], "temperature": 0.9, "seed": 3}
                {"id": "c", "prompt": 7}
                {"id": "d", "prompt_token_ids": [1, 500, 501, 502], "temperature": 0.8, "seed": 9, "n": 2}
                {"id": "e", "prompt_token_ids": [1, 600], "temperature": 0, "logprobs": 2}
                """);
        return in;
    }

    @Test
    void keepsTheCompleteRowsOfAKilledRunAndGeneratesTheRestOnce() throws IOException {
        Path in = input();
        Path whole = dir.resolve("whole.jsonl");
        assertEquals(0, run(in, whole), err.toString());
        List<String> lines = Files.readAllLines(whole);
        assertEquals(5, lines.size());

        // a run killed while writing row 4: rows 1-3 complete, row 4 cut mid-line; row 1 marked so that a
        // regenerated row would show
        Path out = dir.resolve("out.jsonl");
        String kept = lines.get(0).replace("\"error\":null", "\"error\":null ") + "\n" + lines.get(1) + "\n"
                + lines.get(2) + "\n" + lines.get(3).substring(0, 20);
        Files.writeString(dir.resolve("out.jsonl.partial"), kept);

        assertEquals(0, run(in, out, "--resume"), err.toString());
        assertTrue(err.toString().startsWith("kindling: resuming after the 3 rows already in " + out + ".partial\n"),
                err.toString());
        assertTrue(err.toString().contains("kindling: wrote 5 rows (1 errors) to " + out), err.toString());
        List<String> resumed = Files.readAllLines(out);
        assertEquals(lines.get(0).replace("\"error\":null", "\"error\":null "), resumed.get(0));
        assertEquals(lines.subList(1, 5), resumed.subList(1, 5));
        assertFalse(Files.exists(dir.resolve("out.jsonl.partial")));

        // resuming a finished output generates nothing and leaves it as it is
        byte[] before = Files.readAllBytes(out);
        assertEquals(0, run(in, out, "--resume"), err.toString());
        assertTrue(err.toString().startsWith("kindling: resuming after the 5 rows already in"), err.toString());
        assertEquals(new String(before, StandardCharsets.UTF_8), Files.readString(out));
    }

    @Test
    void refusesAnOutputThatAnswersAnotherInput() throws IOException {
        Path in = input();
        Path out = dir.resolve("out.jsonl");
        Files.writeString(dir.resolve("out.jsonl.partial"), """
                {"id":"a","text":"","token_ids":[],"prompt_token_ids":[],"finish_reason":"length","error":null}
                {"id":"x","text":"","token_ids":[],"prompt_token_ids":[],"finish_reason":"length","error":null}
                """);
        assertEquals(1, run(in, out, "--resume"));
        assertEquals("kindling: cannot resume " + out + ".partial: its line 2 has id \"x\" but line 2 of " + in
                + " has id \"b\"; run with --overwrite to start over", err.toString().strip());

        Files.writeString(dir.resolve("out.jsonl.partial"), "not json\n");
        assertEquals(1, run(in, out, "--resume"));
        assertEquals("kindling: cannot resume " + out + ".partial: its line 1 is not an output row; run with "
                + "--overwrite to start over", err.toString().strip());
    }

    @Test
    void anInterruptedRunIsNeitherOverwrittenNorResumedByAccident() throws IOException {
        Path in = input();
        Path out = dir.resolve("out.jsonl");
        Files.writeString(dir.resolve("out.jsonl.partial"), "");
        assertEquals(2, run(in, out));
        assertEquals("Invalid value for option '--output': " + out + ".partial holds the rows of an interrupted "
                + "run; add --resume to continue it or --overwrite to start over",
                err.toString().lines().findFirst().orElseThrow());

        assertEquals(2, run(in, dir.resolve("out.arrow"), "--resume"));
        assertEquals("Invalid value for option '--resume': needs a JSONL output, and " + dir.resolve("out.arrow")
                + " is Arrow IPC", err.toString().lines().findFirst().orElseThrow());

        assertEquals(0, run(in, out, "--overwrite"), err.toString());
        assertEquals(5, Files.readAllLines(out).size());
    }
}
