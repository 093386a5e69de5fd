package io.tramontane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import io.tramontane.tokenizer.instruct.ToolCallIds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LangChain4j's OpenAI client against the real server: it must not notice it is not talking to OpenAI. */
class LangChain4jTest {
    static final String KEY = "sk-langchain4j";

    @TempDir
    static Path cache;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(cache, ServerOptions.loopback().withApiKey(KEY));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    static OpenAiChatModel.OpenAiChatModelBuilder chatModel() {
        return OpenAiChatModel.builder().baseUrl(server.base() + "/v1").apiKey(KEY).modelName("demo")
                .temperature(1.0).seed(42).maxTokens(12).timeout(Duration.ofSeconds(30));
    }

    @Test
    void plainChat() {
        ChatResponse response = chatModel().build().chat(ChatRequest.builder().messages(UserMessage.from("Hello")).build());
        assertThat(response.aiMessage().text()).isNotNull();
        assertThat(response.finishReason()).isIn(FinishReason.STOP, FinishReason.LENGTH);
        assertThat(response.tokenUsage().outputTokenCount()).isBetween(1, 12);
        assertThat(response.metadata().modelName()).isEqualTo("demo");
    }

    @Test
    void streamingDeliversTheSameAnswerInPieces() throws Exception {
        ChatRequest request = ChatRequest.builder().messages(UserMessage.from("Stream please")).build();
        String whole = chatModel().build().chat(request).aiMessage().text();
        var streaming = OpenAiStreamingChatModel.builder().baseUrl(server.base() + "/v1").apiKey(KEY).modelName("demo")
                .temperature(1.0).seed(42).maxTokens(12).timeout(Duration.ofSeconds(30)).build();
        StringBuilder pieces = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                pieces.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse response = done.get(30, TimeUnit.SECONDS);
        assertThat(pieces.toString()).isEqualTo(whole);
        assertThat(response.aiMessage().text()).isEqualTo(whole);
    }

    @Test
    void aToolCallRoundTrip() {
        ToolSpecification weather = ToolSpecification.builder().name("get_weather").description("Weather in a city")
                .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();
        OpenAiChatModel model = chatModel().maxTokens(60).build();
        UserMessage question = UserMessage.from("Weather in Paris?");
        ChatResponse first = model.chat(ChatRequest.builder().messages(question).toolSpecifications(weather)
                .toolChoice(ToolChoice.REQUIRED).build());
        assertThat(first.finishReason()).isEqualTo(FinishReason.TOOL_EXECUTION);
        List<ToolExecutionRequest> calls = first.aiMessage().toolExecutionRequests();
        assertThat(calls).isNotEmpty();
        ToolExecutionRequest call = calls.getFirst();
        assertThat(call.name()).isEqualTo("get_weather");
        assertThat(ToolCallIds.isValid(call.id())).isTrue();
        assertThat(call.arguments()).startsWith("{");

        AiMessage assistant = first.aiMessage();
        ChatResponse second = model.chat(ChatRequest.builder().messages(question, assistant,
                ToolExecutionResultMessage.from(call, "22 degrees and sunny")).toolSpecifications(weather).build());
        assertThat(second.aiMessage()).isNotNull();
        assertThat(second.finishReason()).isIn(FinishReason.STOP, FinishReason.LENGTH, FinishReason.TOOL_EXECUTION);
    }

    @Test
    void jsonSchemaAnswersParseAndMatch() throws Exception {
        OpenAiChatModel model = chatModel().maxTokens(200).strictJsonSchema(true)
                .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).build();
        ResponseFormat format = ResponseFormat.builder().type(ResponseFormatType.JSON)
                .jsonSchema(JsonSchema.builder().name("person").rootElement(JsonObjectSchema.builder()
                        .addStringProperty("name").addIntegerProperty("age").required("name", "age").build()).build())
                .build();
        ChatResponse response = model.chat(ChatRequest.builder().messages(UserMessage.from("A person"))
                .responseFormat(format).build());
        JsonNode person = TestServer.JSON.readTree(response.aiMessage().text());
        assertThat(person.get("name").isTextual()).isTrue();
        assertThat(person.get("age").isIntegralNumber()).isTrue();
    }
}
