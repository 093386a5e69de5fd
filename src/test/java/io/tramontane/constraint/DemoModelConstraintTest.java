package io.tramontane.constraint;

import static io.tramontane.constraint.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.api.Tramontane;
import io.tramontane.demo.DemoModel;
import io.tramontane.engine.FinishReason;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.instruct.AssistantOutput;
import io.tramontane.tokenizer.instruct.ChatRequest;
import io.tramontane.tokenizer.instruct.OutputParser;
import io.tramontane.tokenizer.instruct.Tool;
import io.tramontane.tokenizer.instruct.ToolCall;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6's acceptance on the demo model (random weights) through the engine: 50 seeds of json_schema and
 * 50 of forced tool calls all end by EOS (finish "stop") with JSON that parses and matches the schema.
 * With {@link ConstraintLimits#compact()} no output of these schemas exceeds {@value #MAX_TOKENS} bytes, so
 * the token budget cannot cut one.
 */
class DemoModelConstraintTest {
    static final int MAX_TOKENS = 1024;
    @TempDir
    static Path cache;
    static Tramontane model;
    static Tekken tekken;
    static ConstraintCompiler compiler;
    static int[] prompt;

    @BeforeAll
    static void open() {
        model = Tramontane.open(DemoModel.ensure(cache), "demo", Tramontane.Options.defaults().withThreads(2));
        tekken = model.tokenizer().orElseThrow();
        compiler = ConstraintCompiler.forTokenizer(tekken, ConstraintLimits.compact());
        prompt = model.chatPrompt(ChatRequest.fromJson("{\"messages\": [{\"role\": \"user\", \"content\": \"Reply in JSON\"}]}"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static int[] generate(TokenConstraint constraint, long seed) throws Exception {
        List<TokenEvent> events = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        var sampling = SamplingParams.greedy(MAX_TOKENS).withTemperature(1.0).withSeed(seed);
        model.generate(prompt, sampling, constraint, e -> {
            events.add(e);
            if (e.isLast()) done.complete(null);
        });
        done.get(120, TimeUnit.SECONDS);
        TokenEvent last = events.getLast();
        assertThat(last.error()).isNull();
        assertThat(last.finish()).isEqualTo(FinishReason.STOP);
        assertThat(last.token()).isEqualTo(tekken.eosId());
        return events.stream().mapToInt(TokenEvent::token).filter(t -> t != tekken.eosId()).toArray();
    }

    static List<Integer> seeds() {
        return java.util.stream.IntStream.range(0, 50).boxed().toList();
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void jsonSchemaOutputsParseAndMatch(int seed) throws Exception {
        String schemaText = seed % 2 == 0 ? Fixtures.PERSON : Fixtures.PYDANTIC;
        JsonNode schema = json(schemaText);
        String text = Fixtures.text(tekken, generate(compiler.jsonSchema(schema), seed));
        assertThat(JsonSubsetValidator.violations(Fixtures.JSON.readTree(text), schema)).as(text).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void forcedToolCallsParseAndMatch(int seed) throws Exception {
        String forced = seed % 2 == 0 ? "get_weather" : null;
        int[] tokens = generate(compiler.toolCalls(Fixtures.TOOLS, forced, seed % 2 == 1), seed);
        AssistantOutput output = OutputParser.parse(tekken, tokens);
        assertThat(output.malformed()).isFalse();
        assertThat(output.content()).isEmpty();
        assertThat(output.toolCalls()).isNotEmpty();
        for (ToolCall call : output.toolCalls()) {
            Tool tool = Fixtures.TOOLS.stream().filter(t -> t.name().equals(call.name())).findFirst().orElseThrow();
            if (forced != null) assertThat(call.name()).isEqualTo(forced);
            assertThat(JsonSubsetValidator.violations(Fixtures.JSON.readTree(call.arguments()), tool.parameters()))
                    .as(call.arguments()).isEmpty();
        }
    }
}
