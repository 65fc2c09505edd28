package io.kindling.flink.job;

import io.kindling.flink.KindlingModelProviderFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * {@code kindling flink}: a Flink batch job on a local MiniCluster that adds the model's text as a column to every
 * row of a JSONL, Parquet or CSV table, through {@code ML_PREDICT} and the kindling provider; or a Flink SQL script where the
 * provider and {@code llm_generate} (loaded with {@code --model}'s options) are available. Exit status: 0 when the job
 * ran, 1 when it failed, 2 for a bad command line.
 */
public final class FlinkJob {

    static final String USAGE = """
            Usage: kindling flink --model M --input IN --output OUT [options]
                   kindling flink --model M --sql FILE [options]
            Adds the model's text for <prompt column> to every row of a table (JSONL, Parquet or CSV with a
            header) with a Flink batch job (ML_PREDICT over a kindling model) and writes the rows as part files
            of the same format into OUT; or runs the statements of FILE (each ending with ';' at the end of a
            line) with llm_generate loaded.
              --model M            model directory: a local path or a Hadoop FileSystem URI
              --input IN           input table: a file or a directory of them
              --output OUT         output directory (part files)
              --format F           jsonl, parquet or csv (default: from the input's extension)
              --prompt-column C    column holding the prompts (default: prompt)
              --output-column C    column to add (default: generated)
              --overwrite          replace the output directory if it exists
              --parallelism N      subtasks (default: 1; they share one engine)
              --conf K=V           a model option (max-tokens=64, temperature=0) or a Flink setting (repeatable)
              --sql FILE           run this Flink SQL script instead of a table job
              -h, --help           show this help
            """;

    /**
     * Flink lets 10 rows of a subtask wait on a model at once by default, which starves the engine's batch; as many
     * as Spark's task window (2 x max_num_seqs) keep it full. A row may wait behind all of them, hence the timeout.
     */
    static final Map<String, String> ASYNC_DEFAULTS = Map.of(
            "table.exec.async-ml-predict.max-concurrent-operations", "512",
            "table.exec.async-ml-predict.timeout", "10 min",
            "table.exec.async-scalar.max-concurrent-operations", "512",
            "table.exec.async-scalar.timeout", "10 min");

    /** {@code SET 'key' = 'value'}, as the SQL client writes it. */
    /** Statements whose rows are printed: queries and what shows things. */
    private static final Pattern QUERY = Pattern.compile("(?i)\\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|VALUES)\\b");
    private static final Pattern SET = Pattern.compile("(?is)SET\\s+'([^']+)'\\s*=\\s*'([^']*)'");

    private FlinkJob() {
    }

    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line; returns its exit status. */
    public static int execute(PrintWriter out, PrintWriter err, String... commandLine) {
        Map<String, String> flags = new LinkedHashMap<>();
        Map<String, String> modelOptions = new LinkedHashMap<>();
        Configuration flinkConf = new Configuration();
        TableFormat format = null;
        try {
            for (Iterator<String> it = List.of(commandLine).iterator(); it.hasNext(); ) {
                String flag = it.next();
                if (flag.equals("-h") || flag.equals("--help")) {
                    out.print(USAGE);
                    out.flush();
                    return 0;
                }
                if (flag.equals("--overwrite")) {
                    flags.put(flag, "true");
                    continue;
                }
                if (!it.hasNext() || !flag.startsWith("--")) {
                    throw new IllegalArgumentException(flag.startsWith("--") ? flag + " needs a value"
                            : "unexpected argument '" + flag + "'");
                }
                String value = it.next();
                if (flag.equals("--conf")) {
                    int eq = value.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--conf takes KEY=VALUE, got '" + value + "'");
                    }
                    // Flink settings have dotted keys; the model's options never do.
                    if (value.substring(0, eq).contains(".")) {
                        flinkConf.setString(value.substring(0, eq), value.substring(eq + 1));
                    } else {
                        modelOptions.put(value.substring(0, eq), value.substring(eq + 1));
                    }
                } else if (List.of("--model", "--input", "--output", "--format", "--prompt-column",
                        "--output-column", "--parallelism", "--sql").contains(flag)) {
                    flags.put(flag, value);
                } else {
                    throw new IllegalArgumentException("unknown option " + flag);
                }
            }
            if (!flags.containsKey("--model")) {
                throw new IllegalArgumentException("--model is required");
            }
            if (flags.containsKey("--sql") == (flags.containsKey("--input") || flags.containsKey("--output"))
                    || (!flags.containsKey("--sql") && !(flags.containsKey("--input") && flags.containsKey("--output")))) {
                throw new IllegalArgumentException("give --input and --output, or --sql");
            }
            if (flags.containsKey("--sql") && flags.containsKey("--format")) {
                throw new IllegalArgumentException("--format is for a table job; a SQL script names its formats");
            }
            if (flags.containsKey("--input")) {
                format = flags.containsKey("--format") ? TableFormat.named(flags.get("--format"))
                        : TableFormat.of(flags.get("--input"));
            }
        } catch (IllegalArgumentException e) {
            err.println("kindling flink: " + e.getMessage());
            err.println("Try 'kindling flink --help' for the options.");
            err.flush();
            return 2;
        }
        modelOptions.put("model", flags.get("--model"));
        flinkConf.setString("parallelism.default", flags.getOrDefault("--parallelism", "1"));
        for (Map.Entry<String, String> d : ASYNC_DEFAULTS.entrySet()) {
            if (!flinkConf.containsKey(d.getKey())) {
                flinkConf.setString(d.getKey(), d.getValue());
            }
        }
        try {
            TableEnvironment env = TableEnvironment.create(EnvironmentSettings.newInstance().inBatchMode()
                    .withConfiguration(flinkConf).build());
            long start = System.nanoTime();
            if (flags.containsKey("--sql")) {
                int statements = runScript(env, Path.of(flags.get("--sql")), modelOptions, out);
                out.printf(Locale.ROOT, "kindling flink: ran %d statements of %s in %.1f s%n", statements,
                        flags.get("--sql"), (System.nanoTime() - start) / 1e9);
            } else {
                long rows = runTable(env, format, flags, modelOptions);
                double seconds = (System.nanoTime() - start) / 1e9;
                out.printf(Locale.ROOT, "kindling flink: %d rows in %.1f s (%.2f rows/s) -> %s (%s)%n", rows,
                        seconds, rows / seconds, flags.get("--output"), format);
            }
            out.flush();
            return 0;
        } catch (Exception e) {
            err.println("kindling flink: " + rootMessage(e));
            err.flush();
            return 1;
        }
    }

    private static long runTable(TableEnvironment env, TableFormat format, Map<String, String> flags,
            Map<String, String> model) throws Exception {
        Path input = Path.of(flags.get("--input"));
        Path output = Path.of(flags.get("--output"));
        String prompt = flags.getOrDefault("--prompt-column", "prompt");
        String generated = flags.getOrDefault("--output-column", "generated");
        List<Path> files = TablePaths.parts(input);
        if (files.isEmpty()) {
            throw new IllegalStateException("input " + input + " has no files");
        }
        List<Column> schema = format.columns(files.get(0));
        List<String> columns = schema.stream().map(Column::name).toList();
        if (!columns.contains(prompt)) {
            throw new IllegalStateException("input " + input + " has no column '" + prompt + "' (columns: "
                    + String.join(", ", columns) + "); pass --prompt-column");
        }
        if (columns.contains(generated)) {
            throw new IllegalStateException("input " + input + " already has a column '" + generated
                    + "'; pass --output-column");
        }
        if (Files.exists(output)) {
            if (!flags.containsKey("--overwrite")) {
                throw new IllegalStateException("output " + output + " exists; pass --overwrite to replace it");
            }
            deleteTree(output);
        }
        String declared = schema.stream().map(c -> quote(c.name()) + " " + c.sqlType())
                .collect(Collectors.joining(", "));
        env.executeSql("CREATE TEMPORARY TABLE input_files (" + declared + ") WITH (" + files(input, format) + ")");
        env.executeSql("CREATE TEMPORARY VIEW input_rows AS SELECT * FROM input_files"
                + (format == TableFormat.CSV ? " WHERE " + CsvHeader.notAHeader(columns) : ""));
        env.executeSql("CREATE TEMPORARY TABLE output_rows (" + declared + ", " + quote(generated) + " STRING) WITH ("
                + files(output, format) + ")");
        env.executeSql("CREATE TEMPORARY MODEL kindling_model INPUT (" + quote(prompt) + " STRING) OUTPUT ("
                + quote(generated) + " STRING) WITH (" + withOptions(model) + ")");
        String inputs = columns.stream().map(FlinkJob::quote).collect(Collectors.joining(", "));
        env.executeSql("INSERT INTO output_rows SELECT " + inputs + ", " + quote(generated)
                + " FROM ML_PREDICT(TABLE input_rows, MODEL kindling_model, DESCRIPTOR(" + quote(prompt) + "))")
                .await();
        // Counted by reading the output back, the one count that holds for every format; the iterator is drained,
        // so that the counting job has finished before the MiniCluster goes.
        long rows = 0;
        try (CloseableIterator<Row> count = env.executeSql("SELECT COUNT(*) FROM output_rows").collect()) {
            while (count.hasNext()) {
                rows = ((Number) count.next().getField(0)).longValue();
            }
        }
        if (format == TableFormat.CSV) {
            CsvHeader.prefix(output, Stream.concat(columns.stream(), Stream.of(generated)).toList());
        }
        return rows;
    }

    private static String files(Path path, TableFormat format) {
        return "'connector' = 'filesystem', 'path' = '" + literal(path.toAbsolutePath().toString()) + "', 'format' = '"
                + format.flinkFormat + "'";
    }

    /** Loads llm_generate with the model's options, then runs each statement; returns how many ran. */
    private static int runScript(TableEnvironment env, Path file, Map<String, String> model, PrintWriter out)
            throws Exception {
        env.executeSql("LOAD MODULE kindling WITH (" + withOptions(model).replace("'provider' = 'kindling', ", "")
                + ")");
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(file)) {
            if (line.strip().startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (line.strip().endsWith(";")) {
                statements.add(current.toString().strip().replaceAll(";$", ""));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            statements.add(current.toString().strip());
        }
        for (String statement : statements) {
            Matcher set = SET.matcher(statement);
            if (set.matches()) {
                // The SQL client's SET; executeSql does not take it.
                env.getConfig().set(set.group(1), set.group(2));
                continue;
            }
            TableResult result = env.executeSql(statement);
            if (QUERY.matcher(statement).lookingAt()) {
                // A query's job waits for its rows to be fetched: print them, which fetches them all.
                print(result, out);
            } else if (result.getJobClient().isPresent()) {
                result.await();
            }
        }
        return statements.size();
    }

    /** A query's rows, tab-separated under a line of column names. */
    private static void print(TableResult result, PrintWriter out) throws Exception {
        out.println(String.join("\t", result.getResolvedSchema().getColumnNames()));
        try (CloseableIterator<Row> rows = result.collect()) {
            while (rows.hasNext()) {
                Row row = rows.next();
                List<String> values = new ArrayList<>();
                for (int i = 0; i < row.getArity(); i++) {
                    values.add(String.valueOf(row.getField(i)));
                }
                out.println(String.join("\t", values));
            }
        }
        out.flush();
    }

    private static String withOptions(Map<String, String> model) {
        return "'provider' = '" + KindlingModelProviderFactory.IDENTIFIER + "', " + model.entrySet().stream()
                .map(e -> "'" + literal(e.getKey()) + "' = '" + literal(e.getValue()) + "'")
                .collect(Collectors.joining(", "));
    }

    private static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    private static String literal(String text) {
        return text.replace("'", "''");
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && !(t instanceof io.kindling.flink.KindlingRowException)) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
