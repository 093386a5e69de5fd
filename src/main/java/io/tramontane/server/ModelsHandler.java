package io.tramontane.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/** {@code GET /v1/models} and {@code GET /v1/models/{id}}: the one served model, with vLLM's max_model_len. */
final class ModelsHandler implements Endpoint {
    private final ServedModel model;

    ModelsHandler(ServedModel model) {
        this.model = model;
    }

    @Override
    public void handle(Request request, Response response) throws Exception {
        String path = request.getHttpURI().getPath();
        if (path.startsWith("/v1/models/")) {
            String id = path.substring("/v1/models/".length());
            model.check(id);
            HttpIo.writeJson(response, 200, card());
            return;
        }
        ObjectNode list = JsonNodeFactory.instance.objectNode();
        list.put("object", "list");
        list.putArray("data").add(card());
        HttpIo.writeJson(response, 200, list);
    }

    private ObjectNode card() {
        ObjectNode card = JsonNodeFactory.instance.objectNode();
        card.put("id", model.name());
        card.put("object", "model");
        card.put("created", model.created());
        card.put("owned_by", "tramontane");
        card.put("root", model.name());
        card.put("max_model_len", model.maxContext());
        return card;
    }
}
