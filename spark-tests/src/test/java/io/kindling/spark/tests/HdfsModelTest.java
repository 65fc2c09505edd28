package io.kindling.spark.tests;

import static io.kindling.spark.functions.llm_generate;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.spark.runtime.ExecutorEngines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code spark.kindling.model=hdfs://...}: the executor copies the checkpoint from HDFS and serves from it. */
class HdfsModelTest extends SparkTestBase {

    private static final int ROWS = 16;

    private final Path work = Path.of("target", "hdfs-model-test-" + System.nanoTime()).toAbsolutePath();
    private MiniDFSCluster hdfs;
    private String modelUri;

    @Override
    protected SparkSession.Builder configure(SparkSession.Builder builder) {
        return builder.config("spark.kindling.modelCacheDir", work.resolve("model-cache").toString());
    }

    @BeforeAll
    void startHdfs() throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, work.resolve("dfs").toString());
        hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path("/models/kindling-define-6m");
        hdfs.getFileSystem().copyFromLocalFile(new org.apache.hadoop.fs.Path(SparkTests.MODEL.toUri()), target);
        modelUri = hdfs.getURI() + target.toString();
    }

    @AfterAll
    void stopHdfs() {
        if (hdfs != null) {
            hdfs.shutdown();
        }
    }

    @Test
    void aModelOnHdfsServesTheRowsTheLocalCopyServes() throws IOException {
        Map<String, String> fromLocalPath = generate();
        int loadsBefore = ExecutorEngines.loadCount();

        spark.conf().set("spark.kindling.model", modelUri);
        Map<String, String> fromHdfs = generate();

        assertEquals(ROWS, fromHdfs.size());
        assertEquals(fromLocalPath, fromHdfs);
        assertEquals(loadsBefore + 1, ExecutorEngines.loadCount(), "one more engine, on the HDFS model");
        try (Stream<Path> cached = Files.walk(work.resolve("model-cache"))) {
            List<Long> weights = cached.filter(p -> p.getFileName().toString().equals("model.safetensors"))
                    .map(p -> p.toFile().length()).toList();
            assertEquals(List.of(Files.size(SparkTests.MODEL.resolve("model.safetensors"))), weights,
                    "the host's model cache holds one copy of the weights");
        }
    }

    private Map<String, String> generate() {
        return SparkTests.byKey(SparkTests.words(spark, ROWS)
                .withColumn("text", llm_generate(col("prompt"), Map.of("temperature", "0"))), "id", "text");
    }
}
