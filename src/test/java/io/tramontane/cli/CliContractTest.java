package io.tramontane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class CliContractTest {

    record Result(int exitCode, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpListsEverySubcommand() {
        Result help = run("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("serve", "chat", "generate", "logits", "tokenize", "inspect", "bench");
    }

    @Test
    void benchHelpListsItsModes() {
        Result help = run("bench", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("decode", "prefill", "serve", "roofline");
    }

    @Test
    void unknownOptionIsAUsageErrorOnOneLine() {
        Result result = run("inspect", "--model", "dir", "--no-such-option");
        assertThat(result.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(result.err()).contains("Unknown option: '--no-such-option'").doesNotContain("at io.tramontane");
    }

    @Test
    void missingSubcommandIsAUsageError() {
        assertThat(run().exitCode()).isEqualTo(Main.EXIT_USAGE);
    }
}
