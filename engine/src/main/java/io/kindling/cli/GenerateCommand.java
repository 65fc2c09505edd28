package io.kindling.cli;

import io.kindling.core.EngineConfig;
import io.kindling.core.LlmEngine;
import io.kindling.model.ModelLoadException;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingParams;
import io.kindling.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.PrintWriter;
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

    @Override
    public Integer call() {
        EngineConfig config = engineOptions.config();
        // check the flags on their own before the slow model load; again below over the model's defaults
        flagDefaults(SamplingParams.builder().temperature(1.0).build());
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        GenerateLoop.Summary summary;
        try (InputSource in = openInput(input);
             OutputWriter out = openOutput(output, in.idKind());
             LlmEngine engine = open(config)) {
            SamplingParams defaults = flagDefaults(engine.defaultSamplingParams());
            Progress progress = Progress.onStderr(err, in.rowCount());
            summary = run(engine, defaults, in, out, progress, WINDOW_PER_SEQ * engine.maxNumSeqs());
        } catch (IOException e) {
            throw CliException.io("write output", output, e);
        }
        err.printf(Locale.ROOT, "kindling: wrote %d rows (%d errors) to %s in %.1fs%n", summary.rows(),
                summary.errors(), output, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** The flags over {@code defaults}; a bad value is a usage error naming the flag. */
    private SamplingParams flagDefaults(SamplingParams defaults) {
        try {
            return samplingFlags.applyTo(defaults);
        } catch (InvalidSamplingParamException e) {
            String prefix = "invalid " + e.param() + ": ";
            String problem = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length())
                    : e.getMessage();
            throw engineOptions.invalid(SamplingFlags.flag(e.param()), problem);
        }
    }

    static LlmEngine open(EngineConfig config) {
        try {
            return LlmEngine.open(config);
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

    static OutputWriter openOutput(Path path, IdKind idKind) {
        try {
            return OutputWriter.open(path, idKind);
        } catch (IOException e) {
            throw CliException.io("write output", path, e);
        }
    }

    /** The whole job on an open engine, as the command runs it minus flags and exit codes (for tests, embedding). */
    static GenerateLoop.Summary run(LlmEngine engine, SamplingParams defaults, Path input, Path output,
                                    PrintWriter progress) throws IOException {
        try (InputSource in = openInput(input); OutputWriter out = openOutput(output, in.idKind())) {
            return run(engine, defaults, in, out, new Progress(progress, false, in.rowCount(), System::nanoTime),
                    WINDOW_PER_SEQ * engine.maxNumSeqs());
        }
    }

    private static GenerateLoop.Summary run(LlmEngine engine, SamplingParams defaults, InputSource in,
                                            OutputWriter out, Progress progress, int window) throws IOException {
        RowParser parser = new RowParser(defaults, engine.modelConfig().vocabSize());
        return new GenerateLoop(BatchEngine.of(engine), parser, out, progress, window).run(in);
    }
}
