package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Command-line behaviour that comes before the model loads: usage errors (status 2) and fatal I/O (status 1). */
class MainTest {

    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true), args);
    }

    private String[] generate(String... extra) throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"prompt\": \"a\"}\n");
        String[] base = {"generate", "--model", dir.toString(), "--input", in.toString(),
                "--output", dir.resolve("out.jsonl").toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return args;
    }

    private String firstLine() {
        return err.toString().lines().findFirst().orElse("");
    }

    @Test
    void anUnusableDeviceIsOneLineNamingIt() throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"prompt\": \"a\"}\n");
        // no machine has a GPU 99: without a driver or with one, the CUDA backend refuses it in one line
        assertEquals(1, run("generate", "--model", Fixtures.checkpoint("llama3-tiny").toString(), "--input",
                in.toString(), "--output", dir.resolve("out.jsonl").toString(), "--device", "cuda:99"));
        String message = err.toString().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("kindling: CUDA device 99 was requested, but "), message);
    }

    @Test
    void badFlagValuesAreUsageErrorsNamingTheFlag() throws IOException {
        assertEquals(2, run(generate("--kv-cache-memory", "lots")));
        assertEquals("Invalid value for option '--kv-cache-memory': 'lots' is not a size "
                + "(examples: 512m, 2g, 1073741824)", firstLine());

        err.getBuffer().setLength(0);
        assertEquals(2, run(generate("--top-p", "1.5")));
        assertEquals("Invalid value for option '--top-p': must be in (0, 1], got 1.5", firstLine());

        err.getBuffer().setLength(0);
        assertEquals(2, run(generate("--max-num-seqs", "0")));
        assertEquals("Invalid value for option '--max-num-seqs': must be positive, got 0", firstLine());

        err.getBuffer().setLength(0);
        assertEquals(2, run(generate("--device", "gpu")));
        assertEquals("Invalid value for option '--device': 'gpu' is not auto, cpu, cuda, cuda:N or cuda:N,M,...", firstLine());

        err.getBuffer().setLength(0);
        assertEquals(2, run("generate", "--model", "m"));
        assertEquals("Missing required options: '--input=IN', '--output=OUT'", firstLine());
    }

    @Test
    void unreadableInputAndUnwritableOutputAreOneLineFatalErrors() throws IOException {
        Path missing = dir.resolve("missing.jsonl");
        assertEquals(1, run("generate", "--model", dir.toString(), "--input", missing.toString(),
                "--output", dir.resolve("out.jsonl").toString()));
        assertEquals("kindling: cannot read input " + missing + ": no such file or directory\n", err.toString());

        err.getBuffer().setLength(0);
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"prompt\": \"a\"}\n");
        Path out = dir.resolve("no-such-dir").resolve("out.jsonl");
        assertEquals(1, run("generate", "--model", dir.toString(), "--input", in.toString(),
                "--output", out.toString()));
        assertEquals("kindling: cannot write output " + out + ": no such file or directory\n", err.toString());
    }
}
