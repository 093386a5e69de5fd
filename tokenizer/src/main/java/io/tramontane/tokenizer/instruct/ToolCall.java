package io.tramontane.tokenizer.instruct;

/**
 * A function call made by the assistant, as in OpenAI requests.
 *
 * @param id        the call id tool results refer to; null when the request gives none
 * @param arguments the arguments as JSON text; blank means {@code {}}
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        if (name == null) throw new IllegalArgumentException("tool call needs a function name");
        if (arguments == null) arguments = "";
    }
}
