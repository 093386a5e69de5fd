package io.tramontane.tokenizer.instruct;

import java.util.List;

/**
 * What the model generated, as an assistant message.
 *
 * @param content   the answer text ("" when none), without control tokens
 * @param thinking  the text of {@code [THINK]} blocks ("" when none)
 * @param malformed true when the output broke the format (a stray control token, a tool call without a name or
 *                  with arguments that are not JSON); what could not be read as a tool call is in {@code content}
 */
public record AssistantOutput(String content, String thinking, List<ToolCall> toolCalls, boolean malformed) {
    public AssistantOutput {
        toolCalls = List.copyOf(toolCalls);
    }
}
