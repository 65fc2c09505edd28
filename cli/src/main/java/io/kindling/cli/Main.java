package io.kindling.cli;

import io.kindling.backend.BackendUnavailableException;
import io.kindling.backend.TensorParallelException;
import io.kindling.core.EngineConfigException;
import io.kindling.core.ModelOutputException;
import io.kindling.options.InvalidInputException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.ServiceLoader;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.slf4j.spi.SLF4JServiceProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code kindling} command line. Exit status: 0 when the job ran (bad rows become error rows), 1 for a fatal
 * problem (reported as one line; {@code --verbose} adds the stack trace), 2 for a usage error.
 */
@Command(name = "kindling", subcommands = {GenerateCommand.class, BenchCommand.class},
        description = "LLM batch inference: paged KV cache, continuous batching.")
public final class Main implements Runnable {

    /** Held, since java.util.logging keeps loggers only weakly and would drop the level set on it. */
    private static final Logger ENGINE_LOGGER = Logger.getLogger("io.kindling");

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "Show this help.")
    boolean help;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of fatal errors.")
    boolean verbose;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: generate or bench");
    }

    public static void main(String[] args) {
        silenceMissingLoggerWarning();
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /**
     * Arrow logs through SLF4J; with no logging backend on the classpath SLF4J would print a three-line warning on
     * every run; with no backend, keep SLF4J's own reports to errors.
     */
    private static void silenceMissingLoggerWarning() {
        if (System.getProperty("slf4j.internal.verbosity") == null
                && ServiceLoader.load(SLF4JServiceProvider.class).findFirst().isEmpty()) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
    }

    /** Runs one command line; returns its exit status. */
    static int execute(PrintWriter out, PrintWriter err, String... args) {
        quietEngineLogs(Arrays.asList(args).contains("--verbose"));
        CommandLine cli = new CommandLine(new Main());
        cli.setResourceBundle(new CatalogueHelp());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, commandLineArgs) -> {
            CommandLine cmd = e.getCommandLine();
            err.println(e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
            err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
            err.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // a flag's value the model or device cannot work with
            String setting = e instanceof EngineConfigException c ? c.setting()
                    : e instanceof TensorParallelException t ? t.setting() : null;
            if (setting != null) {
                err.println("Invalid value for option '" + EngineOptions.flag(setting) + "': "
                        + ((InvalidInputException) e).problem());
                err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
                err.flush();
                return cmd.getCommandSpec().exitCodeOnInvalidInput();
            }
            // one line, whatever a library's message holds
            err.println("kindling: " + describe(e).replaceAll("\\s*\\R\\s*", " "));
            if (verbose(parsed)) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        return cli.execute(args);
    }

    /**
     * The engine logs what it decides on its own (the device probe falling back to the CPU) at INFO; a command
     * line shows that only with --verbose, so that a real error is the first line on stderr.
     */
    static void quietEngineLogs(boolean verbose) {
        ENGINE_LOGGER.setLevel(verbose ? Level.INFO : Level.WARNING);
    }

    private static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** One line for a fatal error; an unexpected exception says so and points at --verbose. */
    static String describe(Exception e) {
        if (e instanceof CliException) {
            return e.getMessage();
        }
        if (e instanceof UncheckedIOException u) {
            return u.getMessage() + ": " + CliException.reason(u.getCause());
        }
        if (e instanceof BackendUnavailableException // --device names a device this machine cannot use
                || e instanceof ModelOutputException) {
            return e.getMessage();
        }
        return "internal error: " + e + " (--verbose shows the stack trace)";
    }
}
