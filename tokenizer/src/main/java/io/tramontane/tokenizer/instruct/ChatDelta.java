package io.tramontane.tokenizer.instruct;

/** A piece of a streamed assistant message, as OpenAI's streaming chat API sends them. */
public sealed interface ChatDelta {

    record Content(String text) implements ChatDelta {}

    record Thinking(String text) implements ChatDelta {}

    /** A new tool call: its position in the message, its id and function name. Arguments follow. */
    record ToolCallStart(int index, String id, String name) implements ChatDelta {}

    /** More of a tool call's arguments, as JSON text. */
    record ToolCallArguments(int index, String json) implements ChatDelta {}
}
