package io.tramontane.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tramontane.tokenizer.SpecialTokenPolicy;
import io.tramontane.tokenizer.Tekken;
import java.util.List;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/** {@code POST /detokenize}, vLLM's body {@code {"tokens": [...]}}; answers {@code {"prompt": text}}. */
final class DetokenizeHandler implements Endpoint {
    private final ServedModel model;
    private final ServerOptions options;

    DetokenizeHandler(ServedModel model, ServerOptions options) {
        this.model = model;
        this.options = options;
    }

    @Override
    public void handle(Request request, Response response) throws Exception {
        RequestFields fields = new RequestFields(HttpIo.readJsonObject(request, options.maxBodyBytes()));
        model.check(fields.string("model"));
        Tekken tekken = model.tokenizer();
        if (!fields.has("tokens")) throw ApiError.invalid("tokens", "tokens: expected a list of token ids");
        List<Integer> tokens = fields.integers("tokens");
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokens.get(i);
            if (ids[i] < 0 || ids[i] >= tekken.vocabSize()) {
                throw ApiError.invalid("tokens", "tokens[" + i + "]: " + ids[i] + " is not in the vocabulary [0, "
                        + tekken.vocabSize() + ")");
            }
        }
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("prompt", tekken.decode(ids, SpecialTokenPolicy.KEEP));
        HttpIo.writeJson(response, 200, body);
    }
}
