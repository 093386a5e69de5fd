package io.tramontane.server;

import io.tramontane.engine.FinishReason;
import io.tramontane.engine.TextStream;
import io.tramontane.engine.TokenEvent;
import io.tramontane.sampling.Sampler;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.instruct.ChatDelta;
import io.tramontane.tokenizer.instruct.OutputParser;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One choice of a chat completion: the generated ids read into content, reasoning and tool calls by the
 * tokenizer's {@link OutputParser}, released as OpenAI deltas.
 *
 * <p>Stop strings: the engine matches them on its own detokenized text and withholds text that may begin
 * one; its events carry only what is safe to show. The parser sees every token, so its deltas are held
 * back until the engine has shown as many characters (both decode the same ids the same way), and when
 * the engine ended with less text than the ids decode to, a stop string cut it: the rest is dropped.
 */
final class ChatChoice {
    /** A tool call as released so far. */
    record Call(String id, String name, StringBuilder arguments) {}

    final int index;
    private final OutputParser parser;
    private final TextStream decoded;
    private final boolean keepSamples;
    private final ArrayDeque<ChatDelta> pending = new ArrayDeque<>();
    private final StringBuilder content = new StringBuilder(), reasoning = new StringBuilder();
    private final List<Call> calls = new ArrayList<>();
    private final List<Sampler.Sample> samples = new ArrayList<>();
    private long shownChars, decodedChars, releasedChars;
    private int tokens;
    private FinishReason finish;
    private Throwable error;

    /** @param decoded a detokenizer like the engine's, to measure the text the ids make */
    ChatChoice(int index, Tekken tekken, TextStream decoded, boolean keepSamples) {
        this.index = index;
        this.parser = new OutputParser(tekken);
        this.decoded = decoded;
        this.keepSamples = keepSamples;
    }

    /** Reads one engine event; returns the deltas it releases, in order. */
    List<ChatDelta> accept(TokenEvent event) {
        if (event.token() >= 0) {
            tokens++;
            if (keepSamples && event.sample() != null) samples.add(event.sample());
            decodedChars += decoded.append(event.token()).length();
            pending.addAll(parser.accept(event.token()));
        }
        shownChars += event.text().length();
        if (!event.isLast()) return release(shownChars);
        finish = event.finish();
        error = event.error();
        pending.addAll(parser.finish());
        decodedChars += decoded.flush().length();
        return release(shownChars < decodedChars ? shownChars : Long.MAX_VALUE);
    }

    private List<ChatDelta> release(long limit) {
        List<ChatDelta> out = new ArrayList<>();
        while (!pending.isEmpty()) {
            ChatDelta delta = pending.peek();
            long length = length(delta);
            if (releasedChars + length <= limit) {
                pending.poll();
            } else if (releasedChars < limit && length(delta) > 0 && !(delta instanceof ChatDelta.ToolCallStart)) {
                int head = (int) (limit - releasedChars);
                pending.poll();
                pending.addFirst(withText(delta, text(delta).substring(head)));
                delta = withText(delta, text(delta).substring(0, head));
                length = head;
            } else {
                break;
            }
            releasedChars += length;
            record(delta);
            out.add(delta);
        }
        if (finish != null) pending.clear();
        return out;
    }

    private void record(ChatDelta delta) {
        switch (delta) {
            case ChatDelta.Content c -> content.append(c.text());
            case ChatDelta.Thinking t -> reasoning.append(t.text());
            case ChatDelta.ToolCallStart s -> calls.add(new Call(s.id(), s.name(), new StringBuilder()));
            case ChatDelta.ToolCallArguments a -> calls.get(a.index()).arguments().append(a.json());
        }
    }

    /** Characters of the engine's text a delta stands for (a call's name is decoded text too). */
    private static long length(ChatDelta delta) {
        return switch (delta) {
            case ChatDelta.ToolCallStart s -> s.name().length();
            default -> text(delta).length();
        };
    }

    private static String text(ChatDelta delta) {
        return switch (delta) {
            case ChatDelta.Content c -> c.text();
            case ChatDelta.Thinking t -> t.text();
            case ChatDelta.ToolCallArguments a -> a.json();
            case ChatDelta.ToolCallStart s -> "";
        };
    }

    private static ChatDelta withText(ChatDelta delta, String text) {
        return switch (delta) {
            case ChatDelta.Content c -> new ChatDelta.Content(text);
            case ChatDelta.Thinking t -> new ChatDelta.Thinking(text);
            case ChatDelta.ToolCallArguments a -> new ChatDelta.ToolCallArguments(a.index(), text);
            case ChatDelta.ToolCallStart s -> s;
        };
    }

    /** The samples (with logprobs) since the last call. */
    List<Sampler.Sample> takeSamples() {
        List<Sampler.Sample> out = List.copyOf(samples);
        samples.clear();
        return out;
    }

    boolean finished() {
        return finish != null;
    }

    FinishReason finish() {
        return finish;
    }

    Throwable error() {
        return error;
    }

    /** OpenAI's finish_reason: a stop that made tool calls is {@code tool_calls}. */
    String finishReason() {
        return finish == FinishReason.STOP && !calls.isEmpty() ? "tool_calls" : finish.openAiName();
    }

    int tokens() {
        return tokens;
    }

    String content() {
        return content.toString();
    }

    String reasoning() {
        return reasoning.toString();
    }

    List<Call> calls() {
        return calls;
    }
}
