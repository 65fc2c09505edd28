package io.kindling.examples;

import static io.kindling.spark.functions.llm_generate;
import static org.apache.spark.sql.functions.col;

import io.kindling.core.EngineConfig;
import io.kindling.core.EngineService;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.sampling.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * What the Spark path costs over the engine alone: the same prompts, model and engine options, timed once through
 * {@link EngineService} directly and once as {@code llm_generate} in a {@code local[*]} Spark job, alternating for
 * several rounds after a warm-up of each (model loading and JIT are not timed). Greedy, {@code ignore_eos}, so both
 * do identical work.
 *
 * <pre>
 * bin/kindling spark-class io.kindling.examples.SparkOverheadBench MODEL WORDS_JSONL ROWS MAX_TOKENS [PARTITIONS] [ROUNDS]
 * </pre>
 */
public final class SparkOverheadBench {

    private static final String KV_CACHE = "256m";

    private SparkOverheadBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: SparkOverheadBench MODEL WORDS_JSONL ROWS MAX_TOKENS [PARTITIONS] [ROUNDS]");
            System.exit(2);
        }
        Path model = Path.of(args[0]).toAbsolutePath();
        List<String> prompts = prompts(Path.of(args[1]), Integer.parseInt(args[2]));
        int maxTokens = Integer.parseInt(args[3]);
        int partitions = args.length > 4 ? Integer.parseInt(args[4]) : Runtime.getRuntime().availableProcessors();
        int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        int threads = Runtime.getRuntime().availableProcessors();
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
        EngineConfig config = EngineConfig.defaults(model).withDevice("cpu").withNumThreads(threads)
                .withKvCacheMemoryBytes(256L << 20);
        SparkSession spark = session(model, maxTokens, threads);
        try (EngineService engine = EngineService.start(config)) {
            Dataset<Row> table = spark.createDataset(prompts, Encoders.STRING()).toDF("prompt")
                    .repartition(partitions).cache();
            table.count();
            List<String> warmup = prompts.subList(0, Math.min(64, prompts.size()));
            run(engine, warmup, params, "warmup");
            generate(table.limit(warmup.size()));
            // Alternate the two paths so that JIT warm-up and machine noise fall on both alike.
            double[] direct = new double[rounds];
            double[] viaSpark = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                run(engine, prompts, params, "r" + r + "-");
                direct[r] = prompts.size() / ((System.nanoTime() - start) / 1e9);
                start = System.nanoTime();
                generate(table);
                viaSpark[r] = prompts.size() / ((System.nanoTime() - start) / 1e9);
            }
            double d = median(direct);
            double sp = median(viaSpark);
            System.out.printf(Locale.ROOT, "rows %d, max_tokens %d, %d threads, %d partitions, %d rounds%n",
                    prompts.size(), maxTokens, threads, partitions, rounds);
            System.out.printf(Locale.ROOT, "engine directly: %s rows/s, median %.1f%n", format(direct), d);
            System.out.printf(Locale.ROOT, "Spark llm_generate: %s rows/s, median %.1f%n", format(viaSpark), sp);
            System.out.printf(Locale.ROOT, "Spark overhead: %.1f%%%n", 100 * (d / sp - 1));
        } finally {
            spark.stop();
        }
    }

    private static String format(double[] values) {
        return Arrays.stream(values).mapToObj(v -> String.format(Locale.ROOT, "%.1f", v)).toList().toString();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static List<String> prompts(Path wordsJsonl, int rows) throws Exception {
        List<String> words = new ArrayList<>();
        for (String line : Files.readAllLines(wordsJsonl)) {
            int start = line.indexOf("\"prompt\": \"") + "\"prompt\": \"".length();
            words.add(line.substring(start, line.indexOf('"', start)));
        }
        List<String> prompts = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            prompts.add(words.get(i % words.size()));
        }
        return prompts;
    }

    private static void run(EngineService engine, List<String> prompts, SamplingParams params, String tag) {
        List<CompletableFuture<RequestOutput>> futures = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            futures.add(engine.submit(new Request(tag + i, engine.tokenizer().encode(prompts.get(i)), params)));
        }
        futures.forEach(CompletableFuture::join);
    }

    private static SparkSession session(Path model, int maxTokens, int threads) {
        return SparkSession.builder().appName("kindling overhead").master("local[*]")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.extensions", "io.kindling.spark.KindlingExtensions")
                .config("spark.kindling.model", model.toString())
                .config("spark.kindling.device", "cpu")
                .config("spark.kindling.threads", Integer.toString(threads))
                .config("spark.kindling.kvCacheMemory", KV_CACHE)
                .config("spark.kindling.temperature", "0")
                .config("spark.kindling.ignoreEos", "true")
                .config("spark.kindling.maxTokens", Integer.toString(maxTokens))
                .getOrCreate();
    }

    private static void generate(Dataset<Row> table) {
        table.select(llm_generate(col("prompt"))).write().format("noop").mode(SaveMode.Overwrite).save();
    }
}
