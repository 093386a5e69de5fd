package io.tramontane.cli;

import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.TekkenFormatException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize text with a tekken.json; --jsonl serves a JSON-lines protocol on stdin/stdout.")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "Path to a tekken.json file.")
    Path tokenizer;
    @Option(names = "--jsonl", description = "Read JSON lines from stdin, write one result line per input line.")
    boolean jsonl;
    @Parameters(arity = "0..1", description = "Text to tokenize (without --jsonl).")
    String text;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (jsonl == (text != null)) throw new UsageException("give either the text to tokenize or --jsonl");
        Tekken tekken = load();
        PrintWriter out = spec.commandLine().getOut();
        if (jsonl) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            new TokenizeJsonl(tekken).run(in, out);
        } else {
            printForPeople(tekken, tekken.encode(text), out);
        }
        out.flush();
        return Main.EXIT_OK;
    }

    private Tekken load() throws IOException {
        try {
            return Tekken.load(tokenizer);
        } catch (NoSuchFileException e) {
            throw new UsageException("tokenizer file not found: " + tokenizer);
        } catch (TekkenFormatException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private static void printForPeople(Tekken tekken, int[] ids, PrintWriter out) {
        out.println(ids.length + " tokens (" + tekken.version().label() + ", no BOS/EOS)");
        StringBuilder line = new StringBuilder();
        for (int id : ids) line.append(line.isEmpty() ? "" : " ").append(id);
        out.println(line);
        for (int id : ids) out.printf("%8d  %s%n", id, visible(tekken.tokenText(id)));
    }

    /** Pieces between quotes, with whitespace and control characters spelled out so they can be seen. */
    private static String visible(String piece) {
        StringBuilder out = new StringBuilder("'");
        piece.codePoints().forEach(c -> {
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\'' -> out.append("\\'");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (Character.isISOControl(c)) out.append(String.format("\\x%02x", c));
                    else out.appendCodePoint(c);
                }
            }
        });
        return out.append('\'').toString();
    }
}
