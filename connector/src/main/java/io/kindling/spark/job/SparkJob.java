package io.kindling.spark.job;

import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.spark_partition_id;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.spark.LlmOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code kindling spark}: a Spark job that adds {@code llm_generate(prompt)} as a column to a table (JSONL, Parquet
 * or CSV) and writes it in the same format, so a scheduled job needs no code; or a SQL script using the function. Exit status: 0 when the job ran, 1
 * when it failed (one line; {@code --verbose} adds the stack trace), 2 for a bad command line.
 */
public final class SparkJob {

    static final String EXTENSIONS = "io.kindling.spark.KindlingExtensions";

    /** Log4j's setting for its configuration file; read once, when Spark first logs. */
    private static final String LOG_CONFIG = "log4j2.configurationFile";

    /** A URI scheme ({@code hdfs:}, {@code s3a:}, {@code file:}; two letters at least, so not a drive letter). */
    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:");

    /** The column that keeps the input order across {@code --partitions}. */
    private static final String POSITION = "__kindling_position";

    private final JobArgs args;
    private final PrintWriter out;
    private final PrintWriter err;

    private SparkJob(JobArgs args, PrintWriter out, PrintWriter err) {
        this.args = args;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        if (System.getProperty(LOG_CONFIG) == null) {
            System.setProperty(LOG_CONFIG, "io/kindling/spark/job/log4j2.properties");
        }
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line; returns its exit status. */
    public static int execute(PrintWriter out, PrintWriter err, String... commandLine) {
        JobArgs args;
        try {
            args = JobArgs.parse(commandLine);
        } catch (JobArgs.HelpRequested e) {
            out.print(JobArgs.USAGE);
            out.flush();
            return 0;
        } catch (JobArgs.UsageException e) {
            err.println("kindling spark: " + e.getMessage());
            err.println("Try 'kindling spark --help' for the options.");
            err.flush();
            return 2;
        }
        try {
            new SparkJob(args, out, err).run();
            return 0;
        } catch (Exception e) {
            err.println("kindling spark: " + firstLine(e));
            if (args.verbose()) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        }
    }

    private void run() throws InterruptedException {
        SparkSession spark = session(modelUri());
        try {
            if (args.work() instanceof JobArgs.Table table) {
                run(spark, table);
            } else if (args.work() instanceof JobArgs.Script script) {
                run(spark, script);
            }
        } finally {
            spark.stop();
        }
    }

    private void run(SparkSession spark, JobArgs.Table job) throws InterruptedException {
        Dataset<Row> table = job.format().read(spark.read(), job.input());
        List<String> columns = Arrays.asList(table.columns());
        if (!columns.contains(job.promptColumn())) {
            throw new JobException("input " + job.input() + " has no column '" + job.promptColumn()
                    + "' (columns: " + String.join(", ", columns) + "); pass --prompt-column");
        }
        if (columns.contains(job.outputColumn())) {
            throw new JobException("input " + job.input() + " already has a column '" + job.outputColumn()
                    + "'; pass --output-column");
        }
        if (job.partitions().isPresent()) {
            table = inOrder(table, job.partitions().getAsInt());
        }
        if (job.resume()) {
            Set<Integer> committed = CommittedParts.in(job.output(), spark.sparkContext().hadoopConfiguration());
            int partitions = job.partitions().getAsInt();
            out.printf(Locale.ROOT, "kindling spark: resuming %s: %d of %d partitions already committed%n",
                    job.output(), committed.size(), partitions);
            if (committed.size() >= partitions) {
                out.flush();
                return;
            }
            // rows of committed partitions never reach llm_generate (a filter on the partition id stays above
            // the shuffle: Catalyst does not move a nondeterministic filter)
            table = table.filter(not(spark_partition_id().isin(committed.toArray())));
        }
        Dataset<Row> generated = table.withColumn(job.outputColumn(), generate(job.promptColumn(), columns));
        Observation written = new Observation("kindling-spark");
        OptionalLong total = args.progressMillis() == 0 ? OptionalLong.empty() : OptionalLong.of(table.count());
        long start = System.nanoTime();
        try (Progressing ignored = progress(spark, total)) {
            job.format().write(generated.observe(written, count(lit(1)).as("rows")).write()
                    .mode(mode(job)), job.output());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long rows = ((Number) written.getAsJava().get("rows")).longValue();

        out.printf(Locale.ROOT, "kindling spark: %d rows in %.1f s (%.2f rows/s) on %s -> %s (%s)%n", rows, seconds,
                rows / seconds, spark.sparkContext().master(), job.output(), job.format());
        printRows(firstRows(spark, job, generated.schema()));
    }

    /**
     * {@code llm_generate} of the prompt column, with every input column named as a JSONL row field of a sampling
     * option ({@code max_tokens}, {@code temperature}, {@code seed}, ...) as that row's own option: the same input
     * gives {@code kindling spark} what it gives {@code kindling generate}.
     */
    private static Column generate(String promptColumn, List<String> columns) {
        List<Column> rowOptions = new ArrayList<>();
        for (String column : columns) {
            Optional<Option> o = Option.spelled(FrontEnd.ROW, column);
            if (o.isEmpty()) {
                continue;
            }
            if (!LlmOptions.perRow(o.get())) {
                throw new JobException("input column '" + column + "' is a row option that kindling generate reads, "
                        + "but a Spark job takes it for all rows only: rename or drop the column, and pass --conf "
                        + "spark.kindling." + o.get().spelling(FrontEnd.SPARK).orElse(column) + "=VALUE instead");
            }
            rowOptions.add(lit(column));
            rowOptions.add(col(column).cast(DataTypes.StringType));
        }
        return rowOptions.isEmpty() ? call_function("llm_generate", col(promptColumn))
                : call_function("llm_generate", col(promptColumn), map(rowOptions.toArray(Column[]::new)));
    }

    private static SaveMode mode(JobArgs.Table job) {
        return job.overwrite() ? SaveMode.Overwrite : job.resume() ? SaveMode.Append : SaveMode.ErrorIfExists;
    }

    /** Runs each statement in turn; prints the first rows of the last one's result. */
    private void run(SparkSession spark, JobArgs.Script script) {
        List<String> statements;
        try {
            statements = SqlScript.statements(Files.readString(script.file()));
        } catch (IOException e) {
            throw new JobException("cannot read SQL script " + script.file() + ": " + e, e);
        }
        if (statements.isEmpty()) {
            throw new JobException("SQL script " + script.file() + " has no statements");
        }
        long start = System.nanoTime();
        Dataset<Row> last = null;
        List<Row> rows;
        try (Progressing ignored = progress(spark, OptionalLong.empty())) {
            for (String statement : statements) {
                last = spark.sql(statement);
            }
            rows = last.limit(args.sample()).collectAsList();
        }
        out.printf(Locale.ROOT, "kindling spark: ran %d statements of %s in %.1f s on %s%n", statements.size(),
                script.file(), (System.nanoTime() - start) / 1e9, spark.sparkContext().master());
        printRows(rows);
    }

    /** Progress lines while the job runs, and a last one when it ends. */
    private interface Progressing extends AutoCloseable {
        @Override
        void close();
    }

    private Progressing progress(SparkSession spark, OptionalLong total) {
        if (args.progressMillis() == 0) {
            return () -> { };
        }
        JobProgress progress = JobProgress.every(args.progressMillis(), err, total);
        spark.sparkContext().addSparkListener(progress);
        return () -> {
            progress.close();
            try {
                spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
            } catch (java.util.concurrent.TimeoutException e) {
                // The last line may then miss the last tasks.
            }
            progress.print();
            spark.sparkContext().removeSparkListener(progress);
        };
    }

    private void printRows(List<Row> rows) {
        if (args.sample() > 0 && !rows.isEmpty()) {
            out.println("first rows:");
            for (Row row : rows) {
                out.println("  " + row.json());
            }
        }
        out.flush();
    }

    /**
     * {@code n} partitions that hold consecutive runs of the input, each in input order, so the output keeps the
     * input's order (a plain repartition deals rows out round-robin).
     */
    private static Dataset<Row> inOrder(Dataset<Row> table, int n) {
        return table.withColumn(POSITION, monotonically_increasing_id())
                .repartitionByRange(n, col(POSITION))
                .sortWithinPartitions(POSITION)
                .drop(POSITION);
    }

    /**
     * The first {@code --sample} rows of the output, from its part files in name order (reading the directory as
     * a whole would start with the largest file).
     */
    private List<Row> firstRows(SparkSession spark, JobArgs.Table job, StructType schema) {
        org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(job.output());
        FileStatus[] parts;
        try {
            parts = dir.getFileSystem(spark.sparkContext().hadoopConfiguration())
                    .globStatus(new org.apache.hadoop.fs.Path(dir, "part-*"));
        } catch (IOException e) {
            throw new JobException("cannot list the output " + job.output() + ": " + e.getMessage(), e);
        }
        Arrays.sort(parts, Comparator.comparing(part -> part.getPath().getName()));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < parts.length && rows.size() < args.sample(); i++) {
            rows.addAll(job.format().read(spark.read().schema(schema), parts[i].getPath().toString())
                    .limit(args.sample() - rows.size()).collectAsList());
        }
        return rows;
    }

    private SparkSession session(String modelUri) {
        Map<String, String> settings = new LinkedHashMap<>(args.conf());
        String extensions = settings.get("spark.sql.extensions");
        settings.put("spark.sql.extensions", extensions == null || extensions.isBlank() ? EXTENSIONS
                : extensions.contains(EXTENSIONS) ? extensions : EXTENSIONS + "," + extensions);
        settings.put("spark.kindling.model", modelUri);
        // Running tasks' counts reach the progress lines with executor heartbeats (Spark's default: every 10 s).
        settings.putIfAbsent("spark.executor.heartbeatInterval", "2s");
        // Each task's part file moves into the output when the task commits (version 1 moves them all at the
        // job's end), so a killed job leaves its finished partitions for --resume.
        settings.putIfAbsent("spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version", "2");
        // The CPU backend's fast kernel needs the Vector API module on executors that Spark starts itself.
        String executorOptions = settings.getOrDefault("spark.executor.extraJavaOptions", "");
        if (!executorOptions.contains("jdk.incubator.vector")) {
            settings.put("spark.executor.extraJavaOptions",
                    (executorOptions + " --add-modules=jdk.incubator.vector").strip());
        }
        SparkSession.Builder builder = SparkSession.builder().appName("kindling spark").master(args.master());
        settings.forEach(builder::config);
        return builder.getOrCreate();
    }

    /** A local model directory as an absolute path (executors may run elsewhere); a URI as given. */
    private String modelUri() {
        if (SCHEME.matcher(args.model()).find()) {
            return args.model();
        }
        Path dir = Path.of(args.model()).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new JobException("model directory " + args.model() + " does not exist");
        }
        return dir.toString();
    }

    /** The first line of the failure's message (Spark's go on with plans and stack traces). */
    private static String firstLine(Exception e) {
        String message = e.getMessage() != null ? e.getMessage() : e.toString();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
