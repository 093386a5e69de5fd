package io.tramontane.tokenizer.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * A function the model may call, as in OpenAI's {@code tools[].function}.
 *
 * @param description "" when absent
 * @param parameters  the JSON schema, kept as given (key order matters: it is written into the prompt)
 */
public record Tool(String name, String description, JsonNode parameters) {
    public Tool {
        if (name == null) throw new IllegalArgumentException("tool needs a name");
        if (description == null) description = "";
        if (parameters == null) parameters = JsonNodeFactory.instance.objectNode();
    }
}
