package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.testing.Fixtures;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An input that can be read once (a named pipe, {@code <(...)}, {@code /dev/stdin}) loses no row. */
class PipeInputTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS) // reading a pipe twice would block forever
    void everyRowOfAPipeIsGenerated() throws Exception {
        Path fifo = dir.resolve("in.jsonl");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                Files.writeString(fifo, "{\"id\": 1, \"prompt\": \"a\"}\n{\"id\": 2, \"prompt\": \"b\"}\n"
                        + "{\"id\": 3, \"prompt\": \"c\"}\n", StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Path out = dir.resolve("out.jsonl");
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err, true), "generate",
                "--model", Fixtures.checkpoint("llama3-tiny").toString(), "--input", fifo.toString(), "--output",
                out.toString(), "--device", "cpu", "--max-tokens", "2");
        writer.join();
        assertEquals(0, status, err.toString());
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size(), err.toString());
        for (int i = 0; i < 3; i++) {
            assertEquals(i + 1, Json.MAPPER.readTree(lines.get(i)).get("id").asInt());
        }
    }
}
