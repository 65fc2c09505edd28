package io.kindling.spark.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Kindling's functions from a Spark Connect client: the server is a classic local[2] session with the Kindling
 * extension and the Connect plugin, the client a remote session in the same JVM that knows nothing of Kindling (it
 * calls the functions by name, in SQL and through {@code call_function}). The results must be those of the server's
 * own session.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkConnectTest {

    private static final Path ROOT = Path.of(System.getProperty("kindling.root", "..")).toAbsolutePath().normalize();
    private static final String WORDS = ROOT.resolve("examples/data/words.jsonl").toString();
    private static final String EXTRACT = "llm_extract(prompt, 'definition STRING NOT NULL, synonyms ARRAY<STRING> "
            + "NOT NULL', map('max_tokens', '48', 'temperature', '0'))";

    private SparkSession server;
    private SparkSession client;

    @BeforeAll
    void start() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        server = SparkSession.builder().master("local[2]").appName("kindling-spark-connect-tests")
                .config("spark.sql.extensions", "io.kindling.spark.KindlingExtensions")
                .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
                .config("spark.connect.grpc.binding.port", Integer.toString(port))
                .config("spark.kindling.model", ROOT.resolve("examples/models/kindling-define-6m").toString())
                .config("spark.kindling.kvCacheMemory", "64m")
                .config("spark.ui.enabled", "false")
                .getOrCreate();
        // the Connect client's builder: SparkSession.builder() would hand back the classic session of this JVM
        client = org.apache.spark.sql.connect.SparkSession.builder().remote("sc://localhost:" + port).create();
        // a Connect client session indeed, not a second classic session on the same context
        assertEquals("org.apache.spark.sql.connect.SparkSession", client.getClass().getName());
    }

    @AfterAll
    void stop() throws IOException {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void llmGenerateAndLlmExtractRunFromAConnectClientAsOnTheServer() {
        String query = "SELECT id, llm_generate(prompt, map('max_tokens', '16', 'temperature', '0')) AS text, "
                + EXTRACT + " AS entry FROM json.`" + WORDS + "` ORDER BY id LIMIT 6";
        List<Row> remote = client.sql(query).collectAsList();
        List<Row> local = server.sql(query).collectAsList();
        assertEquals(6, remote.size());
        for (int i = 0; i < remote.size(); i++) {
            Row r = remote.get(i);
            assertEquals(local.get(i).getString(0), r.getString(0));
            assertEquals(local.get(i).getString(1), r.getString(1), r.getString(0));
            Row entry = r.getStruct(2);
            assertFalse(entry.isNullAt(0), r.toString()); // a typed, parsed struct, not text
            assertEquals(local.get(i).getStruct(2).getString(0), entry.getString(0), r.getString(0));
            assertEquals(local.get(i).getStruct(2).getList(1), entry.getList(1), r.getString(0));
        }
    }

    @Test
    void theDataFrameApiCallsThemByName() {
        Map<String, String> remote = new TreeMap<>();
        for (Row r : client.read().json(WORDS).limit(4).select(functions.col("id"), functions.call_function(
                "llm_generate", functions.col("prompt"), functions.map(functions.lit("max_tokens"),
                        functions.lit("8"), functions.lit("temperature"), functions.lit("0")))).collectAsList()) {
            remote.put(r.getString(0), r.getString(1));
        }
        Map<String, String> local = new TreeMap<>();
        for (Row r : server.sql("SELECT id, llm_generate(prompt, map('max_tokens', '8', 'temperature', '0')) FROM "
                + "json.`" + WORDS + "` LIMIT 4").collectAsList()) {
            local.put(r.getString(0), r.getString(1));
        }
        assertEquals(4, remote.size());
        assertEquals(local, remote);
        assertTrue(remote.values().stream().noneMatch(String::isEmpty), remote.toString());
    }
}
