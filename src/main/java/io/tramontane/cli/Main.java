package io.tramontane.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code tramontane} command line. Exit codes: 0 success, 1 runtime failure, 2 usage error.
 * Errors are one readable line on stderr; {@code --verbose} adds the stack trace.
 */
@Command(name = "tramontane",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "A native Java inference engine for Mistral models.",
        subcommands = {
                ServeCommand.class,
                ChatCommand.class,
                GenerateCommand.class,
                LogitsCommand.class,
                TokenizeCommand.class,
                InspectCommand.class,
                BenchCommand.class,
                GpuCheckCommand.class,
        })
public final class Main implements Runnable {

    public static final int EXIT_OK = 0, EXIT_FAILURE = 1, EXIT_USAGE = 2;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces with errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI on the process's stdout/stderr and returns its exit code. */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the CLI with the given output streams (tests) and returns its exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExitCodeExceptionMapper(Main::exitCodeOf);
        cli.setParameterExceptionHandler((e, ignored) -> {
            CommandLine failed = e.getCommandLine();
            failed.getErr().println(failed.getCommandName() + ": " + e.getMessage());
            failed.getErr().println("Try '" + failed.getCommandSpec().qualifiedName() + " --help'.");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, failed, parseResult) -> {
            failed.getErr().println(failed.getCommandSpec().qualifiedName() + ": " + oneLine(e));
            if (parseResult.hasMatchedOption("--verbose")) e.printStackTrace(failed.getErr());
            return exitCodeOf(e);
        });
        return cli.execute(args);
    }

    private static int exitCodeOf(Throwable e) {
        return e instanceof UsageException ? EXIT_USAGE : EXIT_FAILURE;
    }

    private static String oneLine(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) message = e.getClass().getSimpleName();
        return message.replace('\n', ' ');
    }
}
