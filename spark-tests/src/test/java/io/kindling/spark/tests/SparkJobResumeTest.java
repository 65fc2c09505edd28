package io.kindling.spark.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.spark.job.SparkJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kindling spark --resume} after the job's JVM was killed ({@code kill -9}) mid-job: the partitions it
 * committed are kept, only the others are generated, and the output equals an uninterrupted run's.
 */
class SparkJobResumeTest {

    private static final int ROWS = 24;
    private static final int PARTITIONS = 8;
    private static final int ROWS_PER_PARTITION = ROWS / PARTITIONS;
    /** Part files to wait for before the kill: the job is then past its start and not yet done. */
    private static final int KILL_AFTER_PARTS = 2;

    @TempDir
    Path dir;

    @Test
    void aKilledJobResumedGeneratesOnlyItsMissingPartitionsAndEqualsAnUninterruptedRun() throws Exception {
        Path words = dir.resolve("words.jsonl");
        try (Stream<String> lines = Files.lines(SparkTests.WORDS)) {
            Files.write(words, lines.limit(ROWS).toList());
        }
        Path killed = dir.resolve("killed");
        Process job = new ProcessBuilder(childCommand(words, killed)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("killed-job.log").toFile()).start();
        waitForParts(killed, job);
        job.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(killed.resolve("_SUCCESS")), "the job ended before it was killed");
        int committed = partFiles(killed).size();
        assertTrue(committed >= KILL_AFTER_PARTS && committed < PARTITIONS, "parts committed: " + committed);

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, SparkJob.execute(new PrintWriter(out), new PrintWriter(err),
                args(words, killed, "local[2]", "--resume")), err.toString());
        assertTrue(out.toString().startsWith("kindling spark: resuming " + killed + ": " + committed + " of "
                + PARTITIONS + " partitions already committed\nkindling spark: "
                + (ROWS - committed * ROWS_PER_PARTITION) + " rows in "), out.toString());

        Path uninterrupted = dir.resolve("uninterrupted");
        assertEquals(0, SparkJob.execute(new PrintWriter(new StringWriter()), new PrintWriter(err),
                args(words, uninterrupted, "local[2]")), err.toString());
        List<String> expected = lines(uninterrupted);
        assertEquals(ROWS, expected.size());
        assertEquals(expected, lines(killed));

        StringWriter again = new StringWriter();
        assertEquals(0, SparkJob.execute(new PrintWriter(again), new PrintWriter(err),
                args(words, killed, "local[2]", "--resume")), err.toString());
        assertEquals("kindling spark: resuming " + killed + ": " + PARTITIONS + " of " + PARTITIONS
                + " partitions already committed\n", again.toString());
        assertEquals(expected, lines(killed));
    }

    @Test
    void resumeNeedsThePartitionCountOfTheRunItResumes() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(2, SparkJob.execute(new PrintWriter(out), new PrintWriter(err), "--model",
                SparkTests.MODEL.toString(), "--input", SparkTests.WORDS.toString(), "--output",
                dir.resolve("o").toString(), "--resume"));
        assertEquals("kindling spark: --resume needs --partitions, the same number as the run it resumes\n"
                + "Try 'kindling spark --help' for the options.\n", err.toString());
        assertEquals("", out.toString());
    }

    /** This JVM's java and flags running the job on one core, so that partitions commit one at a time. */
    private static List<String> childCommand(Path input, Path output) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), SparkJob.class.getName()));
        command.addAll(List.of(args(input, output, "local[1]")));
        return command;
    }

    private static String[] args(Path input, Path output, String master, String... more) {
        List<String> args = new ArrayList<>(List.of("--model", SparkTests.MODEL.toString(), "--input",
                input.toString(), "--output", output.toString(), "--master", master,
                "--partitions", Integer.toString(PARTITIONS), "--progress-interval", "0", "--sample", "0",
                "--conf", "spark.kindling.temperature=0",
                "--conf", "spark.kindling.maxTokens=" + SparkTests.MAX_TOKENS,
                "--conf", "spark.kindling.kvCacheMemory=64m",
                "--conf", "spark.ui.enabled=false"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    /** Waits until the job has committed {@link #KILL_AFTER_PARTS} part files; fails if it exits first. */
    private static void waitForParts(Path output, Process job) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            if (partFiles(output).size() >= KILL_AFTER_PARTS) {
                return;
            }
            assertTrue(job.isAlive(), "the job exited with " + (job.isAlive() ? "" : job.exitValue())
                    + " before committing " + KILL_AFTER_PARTS + " parts");
            Thread.sleep(20);
        }
        throw new AssertionError("no " + KILL_AFTER_PARTS + " part files in " + output + " within 3 minutes");
    }

    private static List<Path> partFiles(Path output) throws IOException {
        if (!Files.isDirectory(output)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(output)) {
            return files.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
        }
    }

    /** The output's lines, part files in name order (partition order, so input order). */
    private static List<String> lines(Path output) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Path part : partFiles(output)) {
            lines.addAll(Files.readAllLines(part));
        }
        return lines;
    }
}
