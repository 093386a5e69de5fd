package io.tramontane.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: decode, prefill, serve (load generator), roofline (machine limits).",
        subcommands = {BenchDecodeCommand.class, BenchPrefillCommand.class, BenchServeCommand.class,
                BenchRooflineCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose one of: decode, prefill, serve, roofline");
    }
}
