package io.tramontane.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize text with a tekken.json; --jsonl serves a JSON-lines protocol on stdin/stdout.")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "Path to a tekken.json file.")
    Path tokenizer;
    @Option(names = "--jsonl", description = "Read JSON lines from stdin, write one result line per input line.")
    boolean jsonl;
    @Parameters(arity = "0..1", description = "Text to tokenize (without --jsonl).")
    String text;

    @Override
    public Integer call() {
        throw new NotImplementedException("tokenize", 3);
    }
}
