package io.kindling.examples;

import static org.apache.flink.table.api.Expressions.$;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.ModelDescriptor;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableDescriptor;
import org.apache.flink.types.ColumnList;

/**
 * The words job on Flink, with the Table API: reads the JSONL words, defines each with the bundled model through
 * {@code ML_PREDICT} over a kindling model, writes JSONL part files.
 *
 * <pre>
 * DefineWordsFlink MODEL WORDS OUTPUT
 *   MODEL   model directory (examples/models/kindling-define-6m), a local path or a Hadoop URI
 *   WORDS   a JSONL file of {"id", "prompt"} rows (examples/data/words.jsonl)
 *   OUTPUT  directory to write JSONL part files into (must not hold earlier output)
 * </pre>
 */
public final class DefineWordsFlink {

    private DefineWordsFlink() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: DefineWordsFlink MODEL WORDS OUTPUT");
            System.exit(2);
        }
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inBatchMode());
        // Let many rows of a subtask wait on the engine at once, so its batch fills (Flink's default is 10).
        env.getConfig().set("table.exec.async-ml-predict.max-concurrent-operations", "512");
        env.getConfig().set("table.exec.async-ml-predict.timeout", "10 min");
        Schema words = Schema.newBuilder().column("id", DataTypes.STRING()).column("prompt", DataTypes.STRING())
                .build();
        env.createTemporaryTable("words", TableDescriptor.forConnector("filesystem").schema(words)
                .option("path", args[1]).format("json").build());
        env.createTemporaryModel("definer", ModelDescriptor.forProvider("kindling")
                .inputSchema(Schema.newBuilder().column("prompt", DataTypes.STRING()).build())
                .outputSchema(Schema.newBuilder().column("definition", DataTypes.STRING()).build())
                .option("model", args[0])
                .option("max-tokens", "48")
                .option("temperature", "0")
                .build());
        Table defined = env.fromModel("definer").predict(env.from("words"), ColumnList.of("prompt"))
                .select($("id"), $("definition"));
        env.createTemporaryTable("definitions", TableDescriptor.forConnector("filesystem")
                .schema(Schema.newBuilder().column("id", DataTypes.STRING())
                        .column("definition", DataTypes.STRING()).build())
                .option("path", args[2]).format("json").build());
        defined.executeInsert("definitions").await();
        System.out.println("wrote the definitions to " + args[2]);
    }
}
