package io.tramontane.tokenizer.instruct;

import static io.tramontane.tokenizer.SharedTekken.ints;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.tokenizer.SharedTekken;
import io.tramontane.tokenizer.SpecialTokenPolicy;
import io.tramontane.tokenizer.Tekken;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ChatCasesTest {

    static Stream<Arguments> cases() {
        return Stream.of("chat-v3.json", "chat-v7.json", "chat-v13.json", "chat-v15.json").flatMap(file -> {
            String tokenizer = SharedTekken.caseFile(file).get("tokenizer_file").asText();
            return SharedTekken.cases(file).stream().map(c -> Arguments.of(tokenizer,
                    Named.of(c.get("id").asText() + " " + c.get("description").asText(), c)));
        });
    }

    @ParameterizedTest
    @MethodSource("cases")
    void promptIdsMatch(String tokenizerFile, JsonNode testCase) {
        Tekken tekken = SharedTekken.tokenizer(tokenizerFile);
        InstructEncoder encoder = new InstructEncoder(tekken);
        JsonNode request = testCase.get("request");

        int[] ids;
        if ("normalized".equals(testCase.path("input").asText())) {
            ids = encoder.encode(normalized(request));
        } else {
            ChatRequest chat = ChatRequest.fromJson(request);
            ids = endsWhereTheModelAnswers(chat) ? encoder.encodePrompt(chat) : encoder.encodeConversation(chat);
        }

        assertThat(tekken.decode(ids, SpecialTokenPolicy.KEEP)).isEqualTo(testCase.get("text").asText());
        assertThat(ids).containsExactly(ints(testCase.get("ids")));
    }

    /** v3 cases taken from mistral-common's own tests: messages already merged, system prompt and tools given. */
    private static Conversation normalized(JsonNode request) {
        ObjectNode withTools = request.deepCopy();
        withTools.set("tools", request.get("available_tools"));
        ChatRequest chat = ChatRequest.fromJson(withTools);
        return new Conversation(chat.messages(), request.path("system_prompt").textValue(), chat.tools(),
                chat.continueFinalMessage(), null);
    }

    private static boolean endsWhereTheModelAnswers(ChatRequest chat) {
        return !(chat.messages().getLast() instanceof AssistantMessage last)
                || last.prefix() || chat.continueFinalMessage();
    }
}
