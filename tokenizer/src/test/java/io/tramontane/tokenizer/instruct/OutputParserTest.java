package io.tramontane.tokenizer.instruct;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.tokenizer.SharedTekken;
import io.tramontane.tokenizer.SpecialTokens;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.TekkenFile;
import io.tramontane.tokenizer.TokenizerVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OutputParserTest {
    private static Tekken V3, V7, V13;

    /** In a @BeforeAll, not a static initializer: a missing ../shared then skips the class instead of failing it. */
    @org.junit.jupiter.api.BeforeAll
    static void loadTokenizers() {
        V3 = SharedTekken.tokenizer("tekken-v3.json");
        V7 = SharedTekken.tokenizer("tekken-v7.json");
        V13 = SharedTekken.tokenizer("tekken-v13.json");
    }

    /** Generated ids: strings are encoded as text, names in brackets are control tokens. */
    private static int[] ids(Tekken tekken, String... parts) {
        List<Integer> ids = new ArrayList<>();
        for (String part : parts) {
            if (tekken.findSpecialId(part).isPresent() && (part.startsWith("[") || part.startsWith("<"))) {
                ids.add(tekken.specialId(part));
            } else {
                for (int id : tekken.encode(part)) ids.add(id);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Feeds ids one by one, checks the deltas add up to the final message, and returns the message. */
    private static AssistantOutput stream(Tekken tekken, int[] ids) {
        OutputParser parser = new OutputParser(tekken, new Random(7), false);
        List<ChatDelta> deltas = new ArrayList<>();
        for (int id : ids) deltas.addAll(parser.accept(id));
        deltas.addAll(parser.finish());
        AssistantOutput output = parser.result();

        StringBuilder content = new StringBuilder(), thinking = new StringBuilder();
        List<StringBuilder> arguments = new ArrayList<>();
        List<String> names = new ArrayList<>(), callIds = new ArrayList<>();
        for (ChatDelta delta : deltas) {
            switch (delta) {
                case ChatDelta.Content c -> content.append(c.text());
                case ChatDelta.Thinking t -> thinking.append(t.text());
                case ChatDelta.ToolCallStart start -> {
                    assertThat(start.index()).isEqualTo(names.size());
                    names.add(start.name());
                    callIds.add(start.id());
                    arguments.add(new StringBuilder());
                }
                case ChatDelta.ToolCallArguments a -> arguments.get(a.index()).append(a.json());
            }
        }
        assertThat(content.toString()).isEqualTo(output.content());
        assertThat(thinking.toString()).isEqualTo(output.thinking());
        assertThat(names).isEqualTo(output.toolCalls().stream().map(ToolCall::name).toList());
        assertThat(callIds).isEqualTo(output.toolCalls().stream().map(ToolCall::id).toList());
        assertThat(arguments.stream().map(StringBuilder::toString).toList())
                .isEqualTo(output.toolCalls().stream().map(ToolCall::arguments).toList());
        for (String id : callIds) assertThat(ToolCallIds.isValid(id)).as(id).isTrue();
        assertThat(output.content()).doesNotContain("[TOOL_CALLS]", "[ARGS]", "[THINK]", "</s>", "\uFFFD");
        return output;
    }

    @Test
    void plainAnswer() {
        AssistantOutput output = stream(V13, ids(V13, "Bonjour, ça va ? 👋", "</s>"));
        assertThat(output).isEqualTo(new AssistantOutput("Bonjour, ça va ? 👋", "", List.of(), false));
    }

    @Test
    void thinkingThenAnswer() {
        AssistantOutput output = stream(V13, ids(V13, "[THINK]", "17*3 = 51, sûr.", "[/THINK]", "51", "</s>"));
        assertThat(output.thinking()).isEqualTo("17*3 = 51, sûr.");
        assertThat(output.content()).isEqualTo("51");
        assertThat(output.malformed()).isFalse();
    }

    @Test
    void v13ToolCallsAfterText() {
        AssistantOutput output = stream(V13, ids(V13, "Let me check.", "[TOOL_CALLS]", "get_weather", "[ARGS]",
                "{\"city\": \"Zürich\"}", "[TOOL_CALLS]", "now", "[ARGS]", "{}", "</s>"));
        assertThat(output.content()).isEqualTo("Let me check.");
        assertThat(output.toolCalls()).extracting(ToolCall::name).containsExactly("get_weather", "now");
        assertThat(output.toolCalls()).extracting(ToolCall::arguments).containsExactly("{\"city\": \"Zürich\"}", "{}");
        assertThat(output.malformed()).isFalse();
    }

    @Test
    void v11CallIdsAreTakenFromTheOutput() {
        Tekken v11 = Tekken.of(new TekkenFile(TokenizerVersion.V11, V13.file().pattern(), V13.file().defaultVocabSize(),
                V13.file().vocab(), SpecialTokens.standard(TokenizerVersion.V11, 1000), null));
        AssistantOutput output = stream(v11, ids(v11, "[TOOL_CALLS]", "search", "[CALL_ID]", "aB3dE6gH9", "[ARGS]",
                "{\"q\": \"x\"}", "</s>"));
        assertThat(output.toolCalls()).containsExactly(new ToolCall("aB3dE6gH9", "search", "{\"q\": \"x\"}"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tekken-v3.json", "tekken-v7.json"})
    void jsonListToolCalls(String file) {
        Tekken tekken = SharedTekken.tokenizer(file);
        AssistantOutput output = stream(tekken, ids(tekken, "[TOOL_CALLS]",
                "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}, "
                        + "{\"name\": \"now\", \"arguments\": {}, \"id\": \"a1B2c3D4e\"}]", "</s>"));
        assertThat(output.content()).isEmpty();
        assertThat(output.toolCalls()).extracting(ToolCall::name).containsExactly("get_weather", "now");
        assertThat(output.toolCalls()).extracting(ToolCall::arguments)
                .containsExactly("{\"city\": \"Paris\", \"days\": 2}", "{}");
        assertThat(output.toolCalls().get(1).id()).isEqualTo("a1B2c3D4e");
    }

    @Test
    void brokenJsonListBecomesFlaggedContent() {
        AssistantOutput output = stream(V7, ids(V7, "Sure.", "[TOOL_CALLS]", "[{\"name\": \"get_wea", "</s>"));
        assertThat(output.malformed()).isTrue();
        assertThat(output.toolCalls()).isEmpty();
        assertThat(output.content()).isEqualTo("Sure.[{\"name\": \"get_wea");
    }

    @Test
    void callWithoutArgsBecomesFlaggedContent() {
        AssistantOutput output = stream(V13, ids(V13, "[TOOL_CALLS]", "get_weather", "</s>"));
        assertThat(output.malformed()).isTrue();
        assertThat(output.toolCalls()).isEmpty();
        assertThat(output.content()).isEqualTo("get_weather");
    }

    @Test
    void invalidFunctionNameBecomesFlaggedContent() {
        AssistantOutput output = stream(V13, ids(V13, "[TOOL_CALLS]", "not a name!", "[ARGS]", "{}", "</s>"));
        assertThat(output.malformed()).isTrue();
        assertThat(output.toolCalls()).isEmpty();
        assertThat(output.content()).isEqualTo("not a name!{}");
    }

    @Test
    void argumentsThatAreNotJsonAreFlagged() {
        AssistantOutput output = stream(V13, ids(V13, "[TOOL_CALLS]", "f", "[ARGS]", "{\"a\": ", "</s>"));
        assertThat(output.malformed()).isTrue();
        assertThat(output.toolCalls()).extracting(ToolCall::arguments).containsExactly("{\"a\": ");
    }

    @Test
    void strayControlTokensAreDroppedAndFlagged() {
        AssistantOutput output = stream(V13, ids(V13, "Hi", "[INST]", " there", "[/THINK]", "</s>"));
        assertThat(output.content()).isEqualTo("Hi there");
        assertThat(output.malformed()).isTrue();
    }

    @Test
    void generationCutOffByTheTokenLimit() {
        AssistantOutput output = stream(V13, ids(V13, "[THINK]", "Step one", "[/THINK]", "[TOOL_CALLS]", "f", "[ARGS]",
                "{\"x\": 1}"));
        assertThat(output.thinking()).isEqualTo("Step one");
        assertThat(output.toolCalls()).containsExactly(new ToolCall(output.toolCalls().getFirst().id(), "f", "{\"x\": 1}"));
    }

    @Test
    void idsAfterEosAreIgnored() {
        OutputParser parser = new OutputParser(V13);
        for (int id : ids(V13, "ok", "</s>")) parser.accept(id);
        assertThat(parser.isDone()).isTrue();
        assertThat(parser.accept(V13.encode("more")[0])).isEmpty();
        assertThat(parser.result().content()).isEqualTo("ok");
    }

    @Test
    void multibyteCharactersSplitOverByteTokensNeverLeakHalves() {
        // 🚀 as four single-byte tokens, inside content and inside arguments
        int[] rocket = {1240, 1159, 1154, 1128};
        List<Integer> ids = new ArrayList<>();
        for (int id : rocket) ids.add(id);
        ids.add(V13.specialId("[TOOL_CALLS]"));
        for (int id : V13.encode("f")) ids.add(id);
        ids.add(V13.specialId("[ARGS]"));
        for (int id : V13.encode("{\"e\": \"")) ids.add(id);
        for (int id : rocket) ids.add(id);
        for (int id : V13.encode("\"}")) ids.add(id);
        AssistantOutput output = stream(V13, ids.stream().mapToInt(Integer::intValue).toArray());
        assertThat(output.content()).isEqualTo("🚀");
        assertThat(output.toolCalls().getFirst().arguments()).isEqualTo("{\"e\": \"🚀\"}");
    }

    @Test
    void promptWrittenByTheEncoderParsesBack() {
        for (Tekken tekken : List.of(V3, V7, V13)) {
            List<ToolCall> calls = List.of(new ToolCall("PaRiS0001", "get_weather", "{\"city\": \"Paris\"}"),
                    new ToolCall("RoMe00002", "get_weather", "{\"city\": \"Rome\", \"unit\": \"°C\"}"));
            ChatRequest request = ChatRequest.of(List.of(new UserMessage("Weather?"), new AssistantMessage("", calls)));
            int[] prompt = new InstructEncoder(tekken).encodeConversation(request);
            int answerStart = lastIndexOf(prompt, tekken.specialId("[/INST]")) + 1;
            int[] answer = java.util.Arrays.copyOfRange(prompt, answerStart, prompt.length);

            AssistantOutput output = stream(tekken, answer);
            assertThat(output.malformed()).as(tekken.version().label()).isFalse();
            assertThat(output.toolCalls()).extracting(ToolCall::name).containsExactly("get_weather", "get_weather");
            assertThat(output.toolCalls()).extracting(ToolCall::arguments)
                    .containsExactly("{\"city\": \"Paris\"}", "{\"city\": \"Rome\", \"unit\": \"°C\"}");
        }
    }

    @Test
    void mintedIdsAreNineAlphanumericCharacters() {
        Random random = new Random(42);
        for (int i = 0; i < 1000; i++) {
            assertThat(ToolCallIds.mint(random)).matches("[a-zA-Z0-9]{9}");
        }
        assertThat(ToolCallIds.isValid("call/id-1")).isFalse();
        assertThat(ToolCallIds.isValid("abc")).isFalse();
    }

    private static int lastIndexOf(int[] values, int value) {
        for (int i = values.length - 1; i >= 0; i--) if (values[i] == value) return i;
        return -1;
    }
}
