package io.tramontane.tokenizer.instruct;

import java.util.List;

/** One message of a chat request; the roles of OpenAI's chat API. */
public sealed interface ChatMessage permits SystemMessage, UserMessage, AssistantMessage, ToolMessage {

    List<ContentChunk> content();

    /** The role as OpenAI spells it. */
    String role();
}
