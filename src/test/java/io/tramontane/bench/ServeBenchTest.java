package io.tramontane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.api.Tramontane;
import io.tramontane.cli.Main;
import io.tramontane.server.OpenAiServer;
import io.tramontane.server.ServerOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench serve} against our own server on the demo model: small bounded load, loopback only. */
class ServeBenchTest {
    @TempDir
    static Path cache;

    static Tramontane model;
    static OpenAiServer server;

    record Run(int exitCode, String out, String err) {
        JsonNode json() throws Exception {
            return BenchJson.MAPPER.readTree(out);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("tramontane.cache", cache.toString());
        var defaults = Tramontane.Options.defaults();
        model = Tramontane.open("demo", new Tramontane.Options(2, 1, defaults.kvCacheBytes(), defaults.maxSequences(),
                defaults.staticActivationFp8()));
        server = OpenAiServer.start(model, ServerOptions.loopback());
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            server.close();
        } finally {
            model.close();
            System.clearProperty("tramontane.cache");
        }
    }

    static Run bench(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] all = new String[args.length + 4];
        all[0] = "bench";
        all[1] = "serve";
        all[2] = "--url";
        all[3] = "http://127.0.0.1:" + server.port() + "/v1";
        System.arraycopy(args, 0, all, 4, args.length);
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void concurrencySweepWritesJsonAndAPlot(@TempDir Path out) throws Exception {
        Run run = bench("--concurrency", "1,3", "--requests", "3", "--prompt-tokens", "4:12", "--output-tokens", "5",
                "--warmup", "1", "--out", out.toString(), "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode report = run.json();
        assertThat(report.get("model").asText()).isNotBlank();  // found through GET /v1/models
        assertThat(report.get("levels")).hasSize(2);
        for (JsonNode level : report.get("levels")) {
            assertThat(level.get("errors").asInt()).as(level.get("error_samples").toString()).isZero();
            assertThat(level.get("requests").asInt()).isEqualTo(3);
            assertThat(level.get("mean_output_tokens").asDouble()).isEqualTo(5.0);  // ignore_eos: exactly max_tokens
            assertThat(level.get("mean_prompt_tokens").asDouble()).isPositive();
            assertThat(level.at("/ttft_ms/p50").asDouble()).isPositive();
            // one gap per content chunk after the first: at most one per token (a token may stream no text)
            assertThat(level.at("/inter_token_ms/samples").asInt()).isBetween(1, 3 * 4);
            assertThat(level.at("/latency_ms/p99").asDouble()).isGreaterThanOrEqualTo(level.at("/ttft_ms/p99").asDouble());
            assertThat(level.get("output_tokens_per_second").asDouble()).isPositive();
        }
        assertThat(BenchJson.MAPPER.readTree(Files.readString(out.resolve("serve.json")))).isEqualTo(report);
        var svg = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(out.resolve("serve.svg").toFile());
        assertThat(svg.getDocumentElement().getTagName()).isEqualTo("svg");
        assertThat(svg.getElementsByTagName("polyline").getLength()).isEqualTo(6);
    }

    @Test
    void poissonRatesChatAndADatasetFile(@TempDir Path dir) throws Exception {
        Path dataset = dir.resolve("prompts.jsonl");
        Files.writeString(dataset, "{\"prompt\": \"Tell me about the wind\"}\n\n{\"prompt\": \"Hello\"}\n");
        Run run = bench("--request-rate", "50", "--requests", "4", "--dataset", dataset.toString(), "--endpoint", "chat",
                "--output-tokens", "2:4", "--warmup", "0");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("50.0 req/s", "TTFT");
    }

    @Test
    void failedRequestsAreCountedWithTheirMessage() throws Exception {
        Run run = bench("--model", "no-such-model", "--concurrency", "2", "--requests", "2", "--warmup", "0", "--json");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        JsonNode level = run.json().get("levels").get(0);
        assertThat(level.get("errors").asInt()).isEqualTo(2);
        assertThat(level.get("error_samples").get(0).asText()).contains("HTTP 404");
    }

    @Test
    void percentilesAreNearestRank() {
        double[] values = new double[100];
        for (int i = 0; i < 100; i++) values[i] = 100 - i;
        Percentiles p = Percentiles.of(values);
        assertThat(p.p50()).isEqualTo(50);
        assertThat(p.p90()).isEqualTo(90);
        assertThat(p.p99()).isEqualTo(99);
        assertThat(p.mean()).isEqualTo(50.5);
        assertThat(Percentiles.of(new double[0]).p50()).isNaN();
        assertThat(LengthRange.parse("64:256")).isEqualTo(new LengthRange(64, 256));
        assertThat(LatencyPlot.niceCeiling(37)).isEqualTo(50);
    }
}
