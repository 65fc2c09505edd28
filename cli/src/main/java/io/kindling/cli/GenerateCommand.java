package io.kindling.cli;

import io.kindling.backend.TensorParallelException;
import io.kindling.core.EngineConfig;
import io.kindling.core.EngineConfigException;
import io.kindling.core.EngineStats;
import io.kindling.core.LlmEngine;
import io.kindling.core.ModelOutputException;
import io.kindling.model.ModelLoadException;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingParams;
import io.kindling.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kindling generate}: runs every row of a JSONL or Arrow file through the model into an output file. */
@Command(name = "generate", sortOptions = false,
        description = "Generates a completion for every input row (JSONL, or Arrow IPC for .arrow/.feather/.arrows).")
final class GenerateCommand implements Callable<Integer> {

    /** Rows kept between read and written, per sequence the engine may batch. */
    static final int WINDOW_PER_SEQ = 4;

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "IN", description = "Input rows: .jsonl or .arrow.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output rows: .jsonl or .arrow.")
    Path output;

    @Mixin
    EngineOptions engineOptions;

    @Mixin
    SamplingFlags samplingFlags;

    @Option(names = "--overwrite", description = "Replace the output file if it exists.")
    boolean overwrite;

    @Option(names = "--resume", description = "Continue an interrupted run: rows already in OUT.partial (or OUT) "
            + "are kept, the rest generated and appended (JSONL output).")
    boolean resume;

    @Override
    public Integer call() {
        EngineConfig config = engineOptions.config();
        // check the flags on their own before the slow model load; again below over the model's defaults
        flagDefaults(SamplingParams.builder().temperature(1.0).build());
        OutputFile output = outputFile();
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        GenerateLoop.Summary summary;
        OutputFile.Resumed resumed;
        double meanBatch;
        try (InputSource in = openInput(input); LlmEngine engine = open(config)) {
            EngineStats before = engine.stats();
            resumed = resume ? output.resume(in, input) : new OutputFile.Resumed(0, 0);
            if (resumed.rows() > 0) {
                err.printf(Locale.ROOT, "kindling: resuming after the %d rows already in %s%n", resumed.rows(),
                        output.partial());
            }
            SamplingParams defaults = flagDefaults(engine.defaultSamplingParams());
            summary = run(engine, defaults, in, output, resumed.rows(), err, engine.maxNumSeqs());
            meanBatch = engine.stats().meanBatchSince(before);
        } catch (IOException e) {
            throw CliException.io("write output", output.target(), e);
        }
        err.printf(Locale.ROOT, "kindling: wrote %d rows (%d errors) to %s in %.1fs, %.1f sequences a step on "
                + "average%n", resumed.rows() + summary.rows(), resumed.errors() + summary.errors(), output.target(),
                (System.nanoTime() - start) / 1e9, meanBatch);
        return 0;
    }

    /** Generates the rows after the first {@code done} into the partial file, then renames it into place. */
    private GenerateLoop.Summary run(LlmEngine engine, SamplingParams defaults, InputSource in, OutputFile output,
                                     long done, PrintWriter err, int maxNumSeqs) throws IOException {
        GenerateLoop.Summary summary;
        try (OutputWriter out = OutputWriter.open(output.partial(), FileFormat.of(output.target()), in.idKind(),
                resume)) {
            RowParser parser = new RowParser(defaults, engine.modelConfig().vocabSize());
            summary = new GenerateLoop(BatchEngine.of(engine), parser, out, Progress.onStderr(err, in.rowCount()),
                    WINDOW_PER_SEQ * maxNumSeqs, done).run(in);
        } catch (IOException e) {
            throw new CliException("cannot write output " + output.target() + ": " + CliException.reason(e)
                    + keptIn(output), e);
        } catch (ModelOutputException e) {
            throw new CliException(e.getMessage() + keptIn(output), e);
        }
        output.commit();
        return summary;
    }

    private static String keptIn(OutputFile output) {
        return " (the rows done so far are in " + output.partial() + "; --resume continues from them)";
    }

    /**
     * Checks before the model loads that the output can be written without losing anything: an existing output
     * is replaced only with --overwrite, an interrupted run's partial file only with --overwrite or --resume.
     */
    private OutputFile outputFile() {
        OutputFile file = new OutputFile(output);
        if (resume && overwrite) {
            throw engineOptions.invalid("--resume", "--resume continues the output that --overwrite replaces; give one");
        }
        if (resume && FileFormat.of(output) != FileFormat.JSONL) {
            throw engineOptions.invalid("--resume", "needs a JSONL output, and " + output + " is Arrow IPC");
        }
        if (!resume && !overwrite) {
            if (Files.exists(output)) {
                throw engineOptions.invalid("--output", output + " exists; add --overwrite to replace it");
            }
            if (Files.exists(file.partial())) {
                throw engineOptions.invalid("--output", file.partial() + " holds the rows of an interrupted run; "
                        + "add --resume to continue it or --overwrite to start over");
            }
        }
        Path dir = output.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            throw CliException.io("write output", output, new NoSuchFileException(dir.toString()));
        }
        return file;
    }

    /** The flags over {@code defaults}; a bad value is a usage error naming the flag. */
    private SamplingParams flagDefaults(SamplingParams defaults) {
        try {
            return samplingFlags.applyTo(defaults);
        } catch (InvalidSamplingParamException e) {
            throw engineOptions.invalid(SamplingFlags.flag(e.param()), e.problem());
        }
    }

    static LlmEngine open(EngineConfig config) {
        try {
            return LlmEngine.open(config);
        } catch (EngineConfigException | TensorParallelException e) {
            throw e; // a setting's fault, not the model's: Main reports it as a usage error naming the flag
        } catch (ModelLoadException | TokenizerException | IllegalArgumentException e) {
            throw new CliException("cannot load model " + config.model() + ": " + e.getMessage(), e);
        }
    }

    static InputSource openInput(Path path) {
        try {
            return InputSource.open(path);
        } catch (IOException e) {
            throw CliException.io("read input", path, e);
        }
    }
}
