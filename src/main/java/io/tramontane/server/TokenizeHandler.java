package io.tramontane.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.instruct.ChatRequest;
import io.tramontane.tokenizer.instruct.InvalidRequestException;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/**
 * {@code POST /tokenize}, vLLM's body: {@code {"prompt": "...", "add_special_tokens": true}} or
 * {@code {"messages": [...], "tools": [...]}} (the chat prompt); answers {@code count}, {@code max_model_len},
 * {@code tokens} and, with {@code return_token_strs}, {@code token_strs}.
 */
final class TokenizeHandler implements Endpoint {
    private final ServedModel model;
    private final ServerOptions options;

    TokenizeHandler(ServedModel model, ServerOptions options) {
        this.model = model;
        this.options = options;
    }

    @Override
    public void handle(Request request, Response response) throws Exception {
        RequestFields fields = new RequestFields(HttpIo.readJsonObject(request, options.maxBodyBytes()));
        model.check(fields.string("model"));
        Tekken tekken = model.tokenizer();
        int[] tokens;
        if (fields.has("messages")) {
            try {
                tokens = model.chatPrompt(ChatRequest.fromJson(fields.root()), new ToolChoice.Auto());
            } catch (InvalidRequestException e) {
                throw ChatCompletionRequest.invalidChat(e);
            }
        } else {
            String prompt = fields.string("prompt");
            if (prompt == null) throw ApiError.invalid("prompt", "prompt: expected a string (or messages: a chat)");
            tokens = fields.bool("add_special_tokens", true) ? model.textPrompt(prompt) : tekken.encode(prompt);
        }
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("count", tokens.length);
        body.put("max_model_len", model.maxContext());
        var array = body.putArray("tokens");
        for (int token : tokens) array.add(token);
        JsonNode strings = JsonNodeFactory.instance.nullNode();
        if (fields.bool("return_token_strs", false)) {
            var list = JsonNodeFactory.instance.arrayNode();
            for (int token : tokens) list.add(tekken.tokenText(token));
            strings = list;
        }
        body.set("token_strs", strings);
        HttpIo.writeJson(response, 200, body);
    }
}
