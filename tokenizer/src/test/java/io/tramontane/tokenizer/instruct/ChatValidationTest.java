package io.tramontane.tokenizer.instruct;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.tokenizer.SharedTekken;
import io.tramontane.tokenizer.Tekken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChatValidationTest {
    private static final String WEATHER_CALL = """
            {"role": "assistant", "tool_calls": [{"id": "a1B2c3D4e", "type": "function",
              "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}""";

    private static void assertRejected(String tokenizer, String requestJson, String message) {
        InstructEncoder encoder = new InstructEncoder(SharedTekken.tokenizer(tokenizer));
        assertThatThrownBy(() -> encoder.encodePrompt(ChatRequest.fromJson(requestJson)))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining(message);
    }

    private static String messages(String... messages) {
        return "{\"messages\": [" + String.join(", ", messages) + "]}";
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            tekken-v3.json
            tekken-v7.json
            tekken-v13.json
            tekken-v15.json""")
    void conversationRulesOfEveryVersion(String tokenizer) {
        assertRejected(tokenizer, messages(), "messages: must not be empty");
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}",
                "{\"role\": \"assistant\", \"content\": \"hello\"}"), "messages[1]: a prompt must end with");
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}",
                "{\"role\": \"tool\", \"tool_call_id\": \"a1B2c3D4e\", \"content\": \"22\"}"),
                "messages[1]: a tool message cannot follow a user message");
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}", WEATHER_CALL,
                "{\"role\": \"tool\", \"tool_call_id\": \"zzzzzzzzz\", \"content\": \"22\"}"),
                "messages[2].tool_call_id: 'zzzzzzzzz' matches no call");
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}", WEATHER_CALL,
                "{\"role\": \"tool\", \"tool_call_id\": \"a1B2c3D4e\", \"content\": \"22\"}",
                "{\"role\": \"user\", \"content\": \"and?\"}"), "messages[3]: a user message cannot follow a tool");
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}", WEATHER_CALL,
                "{\"role\": \"assistant\", \"content\": \"done\"}", "{\"role\": \"user\", \"content\": \"ok\"}"),
                "messages[1]: 1 tool calls but 0 tool results follow");
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}",
                "{\"role\": \"assistant\", \"content\": \"x\", \"prefix\": true}",
                "{\"role\": \"user\", \"content\": \"y\"}"), "messages[1].prefix: only the last message");
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}",
                "{\"role\": \"assistant\", \"tool_calls\": [{\"id\": \"a1B2c3D4e\", \"function\": "
                        + "{\"name\": \"f\", \"arguments\": \"{oops\"}}]}",
                "{\"role\": \"tool\", \"tool_call_id\": \"a1B2c3D4e\", \"content\": \"22\"}"),
                "messages[1].tool_calls[0].function.arguments: not valid JSON");
        assertRejected(tokenizer, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": "
                + "[{\"type\": \"function\", \"function\": {\"name\": \"get weather\"}}]}", "tools[0].function.name");
        assertRejected(tokenizer, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                + "\"continue_final_message\": true}", "continue_final_message: the last message must be an assistant");
    }

    @ParameterizedTest
    @CsvSource({"tekken-v3.json", "tekken-v7.json"})
    void versionsThatWriteCallIdsNeedNineAlphanumericIds(String tokenizer) {
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}",
                "{\"role\": \"assistant\", \"tool_calls\": [{\"id\": \"call/id-1\", \"function\": "
                        + "{\"name\": \"f\", \"arguments\": \"{}\"}}]}",
                "{\"role\": \"tool\", \"tool_call_id\": \"call/id-1\", \"content\": \"b\"}"),
                "messages[1].tool_calls[0].id: 'call/id-1' must be 9 characters");
        assertRejected(tokenizer, messages("{\"role\": \"user\", \"content\": \"hi\"}", WEATHER_CALL,
                "{\"role\": \"tool\", \"content\": \"22\"}"), "messages[2].tool_call_id: required");
    }

    @Test
    void thinkingChunksNeedV13AndV15KeepsThemOutOfSystemPrompts() {
        String thinkingAnswer = messages("{\"role\": \"user\", \"content\": \"2+2?\"}",
                "{\"role\": \"assistant\", \"content\": [{\"type\": \"thinking\", \"thinking\": \"easy\"}, "
                        + "{\"type\": \"text\", \"text\": \"4\"}]}", "{\"role\": \"user\", \"content\": \"ok\"}");
        assertRejected("tekken-v7.json", thinkingAnswer, "messages[1].content: thinking chunks are not allowed here");
        assertThatCode(() -> new InstructEncoder(SharedTekken.tokenizer("tekken-v13.json"))
                .encodePrompt(ChatRequest.fromJson(thinkingAnswer))).doesNotThrowAnyException();

        String thinkingSystem = messages("{\"role\": \"system\", \"content\": [{\"type\": \"thinking\", "
                + "\"thinking\": \"plan\"}]}", "{\"role\": \"user\", \"content\": \"go\"}");
        assertRejected("tekken-v15.json", thinkingSystem, "messages[0].content: thinking chunks are not allowed here");
    }

    @Test
    void v3CannotMixTextAndToolCalls() {
        assertRejected("tekken-v3.json", messages("{\"role\": \"user\", \"content\": \"hi\"}",
                "{\"role\": \"assistant\", \"content\": \"Let me see.\", \"tool_calls\": [{\"id\": \"a1B2c3D4e\", "
                        + "\"function\": {\"name\": \"f\", \"arguments\": \"{}\"}}]}",
                "{\"role\": \"tool\", \"tool_call_id\": \"a1B2c3D4e\", \"content\": \"b\"}"),
                "tokenizer v3 cannot write content and tool_calls");
    }

    @Test
    void reasoningEffortIsCheckedAgainstTheTokenizer() {
        String request = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"reasoning_effort\": \"%s\"}";
        assertRejected("tekken-v13.json", request.formatted("high"), "reasoning_effort: needs tokenizer v15");
        assertRejected("tekken-v15.json", request.formatted("medium"), "reasoning_effort: 'medium' is not one of [none, high]");
    }

    @Test
    void malformedJsonNamesTheField() {
        Tekken tekken = SharedTekken.tokenizer("tekken-v13.json");
        assertThatThrownBy(() -> ChatRequest.fromJson("{\"messages\": [{\"role\": \"robot\"}]}"))
                .hasMessage("messages[0].role: 'robot' is not one of system, user, assistant, tool");
        assertThatThrownBy(() -> ChatRequest.fromJson("{\"messages\": [{\"role\": \"user\", \"content\": 3}]}"))
                .hasMessage("messages[0].content: expected a string, a list of chunks or null");
        assertThatThrownBy(() -> ChatRequest.fromJson("{\"messages\": [{\"role\": \"user\", \"content\": "
                + "[{\"type\": \"image_url\"}]}]}")).hasMessageContaining("messages[0].content[0].type: 'image_url'");
        assertThatThrownBy(() -> ChatRequest.fromJson("{\"messages\": ")).isInstanceOf(InvalidRequestException.class)
                .hasMessageStartingWith("request is not valid JSON");
        assertThatCode(() -> new InstructEncoder(tekken).encodePrompt(ChatRequest.fromJson(
                "{\"model\": \"m\", \"temperature\": 0.2, \"stream\": true, \"messages\": "
                        + "[{\"role\": \"developer\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"hi\"}]}")))
                .doesNotThrowAnyException();
    }
}
