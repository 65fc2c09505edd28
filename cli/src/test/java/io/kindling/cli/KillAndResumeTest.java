package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kindling generate} in a child JVM, killed with SIGKILL at random points while it writes rows, then run
 * again with {@code --resume} until it finishes: the output equals an uninterrupted run's byte for byte.
 */
class KillAndResumeTest {

    private static final int ROWS = 40;
    private static final int KILLS = 3;

    @TempDir
    Path dir;

    @Test
    void aJobKilledAtRandomPointsAndResumedWritesTheUninterruptedOutput() throws Exception {
        Path in = dir.resolve("in.jsonl");
        // greedy and seeded rows, several samples, logprobs, and a bad row, as a real table mixes them
        Files.write(in, IntStream.range(0, ROWS).mapToObj(i -> i % 17 == 5 ? "{\"id\": " + i + ", \"prompt\": 1}"
                : "{\"id\": " + i + ", \"prompt_token_ids\": [1, " + (300 + 7 * i) + ", " + (900 + i) + "], "
                + (i % 3 == 0 ? "\"temperature\": 0" : "\"temperature\": 0.8, \"seed\": " + i)
                + (i % 4 == 1 ? ", \"n\": 2" : "") + (i % 5 == 2 ? ", \"logprobs\": 2" : "") + "}").toList());
        Path whole = dir.resolve("whole.jsonl");
        StringWriter err = new StringWriter();
        assertEquals(0, Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err),
                args(in, whole, false)), err.toString());

        Path out = dir.resolve("out.jsonl");
        Path partial = dir.resolve("out.jsonl.partial");
        Random random = new Random(13);
        int kills = 0;
        for (int attempt = 0; attempt < 20; attempt++) {
            Process child = start(in, out);
            long before = Files.exists(partial) ? Files.size(partial) : 0;
            boolean killed = false;
            if (kills < KILLS) {
                // once it has written something new, let it run on a random while, then kill it mid-job
                while (child.isAlive() && (!Files.exists(partial) || Files.size(partial) <= before)) {
                    Thread.sleep(5);
                }
                Thread.sleep(random.nextInt(150));
                if (child.isAlive()) {
                    child.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
                    killed = true;
                    kills++;
                }
            }
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child hung");
            if (!killed) {
                assertEquals(0, child.exitValue(), Files.readString(dir.resolve("child.err")));
                break;
            }
            assertFalse(Files.exists(out), "a killed run renamed its output into place");
        }
        assertTrue(kills >= 2, "only " + kills + " kills landed mid-job");
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(out));
        assertEquals(ROWS, Files.readAllLines(out).size());
        assertFalse(Files.exists(partial));
    }

    private Process start(Path in, Path out) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the flags surefire gave this JVM (Vector API, add-opens), so the child computes exactly as this one does
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-") || a.startsWith("-Xss")).collect(Collectors.toList()));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args(in, out, true)));
        return new ProcessBuilder(command).redirectOutput(dir.resolve("child.out").toFile())
                .redirectError(dir.resolve("child.err").toFile()).start();
    }

    private static String[] args(Path in, Path out, boolean resume) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", DataSafetyTest.MODEL.toString(),
                "--input", in.toString(), "--output", out.toString(), "--device", "cpu", "--max-tokens", "16",
                "--max-num-seqs", "2"));
        if (resume) {
            args.add("--resume");
        }
        return args.toArray(String[]::new);
    }
}
