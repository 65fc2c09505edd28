package io.kindling.spark.job;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/** The command line of {@code kindling spark}: the session's settings and the work, a table or a SQL script. */
record JobArgs(String model, String master, Map<String, String> conf, int sample, boolean verbose,
               long progressMillis, Work work) {

    static final String USAGE = """
            Usage: kindling spark --model M --input IN --output OUT [options]
                   kindling spark --model M --sql FILE [options]
            Adds llm_generate(<prompt column>) to every row of a table (JSONL, Parquet or CSV) with a Spark job
            and writes the result in the same format; or runs the SQL statements of FILE (each ending with ';' at
            the end of a line), where llm_generate is available, and prints the first rows of the last one.
              --model M            model directory: a local path or a Hadoop FileSystem URI (hdfs:, s3a:, file:)
              --input IN           input table: a file or a directory
              --output OUT         output directory
              --format F           jsonl, parquet or csv (default: from the input's extension)
              --partitions N       split the input into N partitions, keeping the row order (default: as read)
              --prompt-column C    column holding the prompts (default: prompt); columns named as a row's sampling
                                   option in kindling generate's JSONL (max_tokens, temperature, seed, ...) set it
                                   for their row
              --output-column C    column to add (default: generated)
              --overwrite          replace the output directory if it exists
              --resume             continue a job that stopped (killed or failed) with the same --input, --output
                                   and --partitions: the partitions it committed are kept, only the others run
              --sql FILE           run this SQL script instead of a table job
              --master URL         Spark master (default: local[*])
              --conf K=V           Spark or Kindling setting, e.g. spark.kindling.maxTokens=64 (repeatable)
              --sample N           result rows to print at the end (default: 5)
              --progress-interval S  seconds between progress lines on stderr (default: 5; 0: none)
              --verbose            print stack traces of failures
              -h, --help           show this help
            """;

    /** What the job does in its session. */
    sealed interface Work permits Table, Script {
    }

    /** Read {@code input}, add {@code outputColumn} = llm_generate({@code promptColumn}), write {@code output}. */
    record Table(String input, String output, DataFormat format, OptionalInt partitions, String promptColumn,
                 String outputColumn, boolean overwrite, boolean resume) implements Work {
    }

    /** Run the statements of a SQL file. */
    record Script(Path file) implements Work {
    }

    /** Thrown for {@code --help}: not an error, the caller prints {@link #USAGE}. */
    static final class HelpRequested extends RuntimeException {
        HelpRequested() {
            super("help", null, false, false);
        }
    }

    /** A bad command line, reported as one line with exit status 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    private static final List<String> TABLE_OPTIONS = List.of("--input", "--output", "--format", "--partitions",
            "--prompt-column", "--output-column", "--overwrite", "--resume");

    static JobArgs parse(String... args) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> conf = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help" -> throw new HelpRequested();
                case "--overwrite", "--resume", "--verbose" -> values.put(arg, "true");
                case "--model", "--input", "--output", "--format", "--master", "--partitions", "--prompt-column",
                     "--output-column", "--sample", "--sql", "--progress-interval" -> {
                    String value = value(args, i++);
                    if (values.put(arg, value) != null) {
                        throw new UsageException(arg + " given twice");
                    }
                }
                case "--conf" -> {
                    String setting = value(args, i++);
                    int eq = setting.indexOf('=');
                    if (eq <= 0) {
                        throw new UsageException("--conf expects K=V, got '" + setting + "'");
                    }
                    conf.put(setting.substring(0, eq), setting.substring(eq + 1));
                }
                default -> throw new UsageException((arg.startsWith("-") ? "unknown option " : "unexpected argument ")
                        + "'" + arg + "'");
            }
        }
        String model = required(values, "--model");
        Work work = values.containsKey("--sql") ? script(values) : table(values);
        return new JobArgs(model, values.getOrDefault("--master", "local[*]"), Collections.unmodifiableMap(conf),
                count("--sample", values.getOrDefault("--sample", "5"), 0), values.containsKey("--verbose"),
                seconds("--progress-interval", values.getOrDefault("--progress-interval", "5")), work);
    }

    private static Script script(Map<String, String> values) {
        for (String option : TABLE_OPTIONS) {
            if (values.containsKey(option)) {
                throw new UsageException(option + " does not go with --sql: the script reads and writes its tables");
            }
        }
        return new Script(Path.of(values.get("--sql")));
    }

    private static Table table(Map<String, String> values) {
        String input = required(values, "--input");
        DataFormat format;
        try {
            format = values.containsKey("--format") ? DataFormat.named(values.get("--format")) : DataFormat.of(input);
        } catch (JobException e) {
            throw new UsageException(e.getMessage());
        }
        String partitions = values.get("--partitions");
        boolean resume = values.containsKey("--resume");
        if (resume && partitions == null) {
            // partition i of a re-run must hold the rows partition i of the stopped run held
            throw new UsageException("--resume needs --partitions, the same number as the run it resumes");
        }
        if (resume && values.containsKey("--overwrite")) {
            throw new UsageException("--resume does not go with --overwrite");
        }
        return new Table(input, required(values, "--output"), format,
                partitions == null ? OptionalInt.empty() : OptionalInt.of(count("--partitions", partitions, 1)),
                values.getOrDefault("--prompt-column", "prompt"), values.getOrDefault("--output-column", "generated"),
                values.containsKey("--overwrite"), resume);
    }

    private static String value(String[] args, int i) {
        if (i + 1 >= args.length) {
            throw new UsageException(args[i] + " needs a value");
        }
        return args[i + 1];
    }

    private static String required(Map<String, String> values, String option) {
        String value = values.get(option);
        if (value == null) {
            throw new UsageException("missing " + option);
        }
        return value;
    }

    private static long seconds(String option, String value) {
        try {
            double s = Double.parseDouble(value);
            if (s >= 0 && Double.isFinite(s)) {
                return Math.round(s * 1000);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(option + " expects seconds (0 or more), got '" + value + "'");
    }

    private static int count(String option, String value, int min) {
        try {
            int n = Integer.parseInt(value);
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below, as for a number out of range
        }
        throw new UsageException(option + " expects a whole number of at least " + min + ", got '" + value + "'");
    }
}
