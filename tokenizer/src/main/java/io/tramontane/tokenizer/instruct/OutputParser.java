package io.tramontane.tokenizer.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.tokenizer.SpecialTokenPolicy;
import io.tramontane.tokenizer.StreamingDecoder;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.TokenizerVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * Reads generated ids, one at a time, into an assistant message and the deltas to stream: content, thinking
 * ({@code [THINK]...[/THINK]}) and tool calls, in the format of the tokenizer's version: v3/v7
 * {@code [TOOL_CALLS][{"name": ..., "arguments": ...}]}, v11 {@code [TOOL_CALLS]name[CALL_ID]id[ARGS]{...}},
 * v13+ {@code [TOOL_CALLS]name[ARGS]{...}}. Control tokens never reach the content; output that breaks the format
 * is kept as content and flagged, never thrown. {@code </s>} ends the message. One instance per generation.
 */
public final class OutputParser {
    private static final Pattern FUNCTION_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    private enum Mode { CONTENT, THINKING, CALL_NAME, CALL_ID, CALL_ARGUMENTS, CALL_LIST, DONE }

    private final Tekken tekken;
    private final RandomGenerator random;
    private final int eos;
    private final OptionalInt think, endThink, toolCalls, args, callId;

    private Mode mode;
    private StreamingDecoder decoder;
    private final StringBuilder content = new StringBuilder(), thinking = new StringBuilder();
    private final StringBuilder name = new StringBuilder(), id = new StringBuilder(), arguments = new StringBuilder();
    private final List<ToolCall> calls = new ArrayList<>();
    private boolean malformed;

    /** @param insideThinking true when the prompt ended inside an open {@code [THINK]} block */
    public OutputParser(Tekken tekken, RandomGenerator random, boolean insideThinking) {
        this.tekken = tekken;
        this.random = random;
        this.eos = tekken.eosId();
        this.think = special("[THINK]", TokenizerVersion.V13);
        this.endThink = special("[/THINK]", TokenizerVersion.V13);
        this.toolCalls = tekken.findSpecialId("[TOOL_CALLS]");
        this.args = special("[ARGS]", TokenizerVersion.V11);
        this.callId = tekken.version() == TokenizerVersion.V11 ? tekken.findSpecialId("[CALL_ID]") : OptionalInt.empty();
        this.mode = insideThinking ? Mode.THINKING : Mode.CONTENT;
        this.decoder = tekken.streamingDecoder(SpecialTokenPolicy.IGNORE);
    }

    public OutputParser(Tekken tekken) {
        this(tekken, RandomGenerator.getDefault(), false);
    }

    /** Parses a whole generation at once. */
    public static AssistantOutput parse(Tekken tekken, int[] ids) {
        OutputParser parser = new OutputParser(tekken);
        for (int id : ids) parser.accept(id);
        parser.finish();
        return parser.result();
    }

    /** True once {@code </s>} was read; later ids are ignored. */
    public boolean isDone() {
        return mode == Mode.DONE;
    }

    /** Reads one generated id; returns the deltas it completes (often none or one). */
    public List<ChatDelta> accept(int token) {
        List<ChatDelta> deltas = new ArrayList<>(2);
        if (mode == Mode.DONE) return deltas;
        if (token == eos) {
            end(deltas);
        } else if (tekken.isSpecial(token)) {
            control(token, deltas);
        } else {
            text(decoder.accept(token), deltas);
        }
        return deltas;
    }

    /** Ends the generation (e.g. at the token limit): flushes held-back bytes and closes an open tool call. */
    public List<ChatDelta> finish() {
        List<ChatDelta> deltas = new ArrayList<>(2);
        if (mode != Mode.DONE) end(deltas);
        return deltas;
    }

    /** The message read so far; complete after {@link #finish()} or {@code </s>}. */
    public AssistantOutput result() {
        return new AssistantOutput(content.toString(), thinking.toString(), calls, malformed);
    }

    private void control(int token, List<ChatDelta> deltas) {
        if (is(think, token) && mode == Mode.CONTENT) {
            flush(deltas);
            mode = Mode.THINKING;
        } else if (is(endThink, token) && mode == Mode.THINKING) {
            flush(deltas);
            mode = Mode.CONTENT;
        } else if (is(toolCalls, token) && mode != Mode.CALL_LIST) {
            flush(deltas);
            closeCall(deltas);
            mode = args.isPresent() ? Mode.CALL_NAME : Mode.CALL_LIST;
        } else if (is(callId, token) && mode == Mode.CALL_NAME) {
            flush(deltas);
            mode = Mode.CALL_ID;
        } else if (is(args, token) && (mode == Mode.CALL_NAME || mode == Mode.CALL_ID)) {
            flush(deltas);
            startCall(deltas);
        } else {
            // a control token out of place: dropped, never written into the content
            malformed = true;
        }
    }

    private void text(String text, List<ChatDelta> deltas) {
        if (text.isEmpty()) return;
        switch (mode) {
            case CONTENT -> {
                content.append(text);
                deltas.add(new ChatDelta.Content(text));
            }
            case THINKING -> {
                thinking.append(text);
                deltas.add(new ChatDelta.Thinking(text));
            }
            case CALL_NAME -> name.append(text);
            case CALL_ID -> id.append(text);
            case CALL_ARGUMENTS -> {
                arguments.append(text);
                deltas.add(new ChatDelta.ToolCallArguments(calls.size(), text));
            }
            case CALL_LIST -> arguments.append(text);
            case DONE -> { }
        }
    }

    private void flush(List<ChatDelta> deltas) {
        text(decoder.flush(), deltas);
    }

    private void startCall(List<ChatDelta> deltas) {
        String functionName = name.toString();
        if (!FUNCTION_NAME.matcher(functionName).matches()) {
            malformed = true;
            mode = Mode.CONTENT;
            text(functionName, deltas);
            name.setLength(0);
            return;
        }
        String callIdText = ToolCallIds.isValid(id.toString()) ? id.toString() : ToolCallIds.mint(random);
        deltas.add(new ChatDelta.ToolCallStart(calls.size(), callIdText, functionName));
        id.setLength(0);
        id.append(callIdText);
        mode = Mode.CALL_ARGUMENTS;
    }

    /** Ends the call being read, if any; its arguments were streamed already, so bad JSON only sets the flag. */
    private void closeCall(List<ChatDelta> deltas) {
        switch (mode) {
            case CALL_ARGUMENTS -> {
                String json = arguments.toString();
                if (PythonJson.parse(json.isBlank() ? "{}" : json).isEmpty()) malformed = true;
                calls.add(new ToolCall(id.toString(), name.toString(), json));
            }
            case CALL_NAME, CALL_ID -> {
                malformed = true;
                mode = Mode.CONTENT;
                text(name.toString(), deltas);
            }
            case CALL_LIST -> closeCallList(deltas);
            default -> { }
        }
        name.setLength(0);
        id.setLength(0);
        arguments.setLength(0);
    }

    /** v3/v7: the whole JSON list is read before any call is announced, so nothing partial escapes. */
    private void closeCallList(List<ChatDelta> deltas) {
        String json = arguments.toString();
        List<ToolCall> parsed = parseCallList(json);
        if (parsed == null) {
            malformed = true;
            mode = Mode.CONTENT;
            text(json, deltas);
            return;
        }
        for (ToolCall call : parsed) {
            deltas.add(new ChatDelta.ToolCallStart(calls.size(), call.id(), call.name()));
            deltas.add(new ChatDelta.ToolCallArguments(calls.size(), call.arguments()));
            calls.add(call);
        }
    }

    private List<ToolCall> parseCallList(String json) {
        JsonNode list = PythonJson.parse(json).orElse(null);
        if (list == null || !list.isArray() || list.isEmpty()) return null;
        List<ToolCall> parsed = new ArrayList<>();
        for (JsonNode call : list) {
            JsonNode functionName = call.get("name"), callArguments = call.get("arguments");
            if (functionName == null || !functionName.isTextual()
                    || !FUNCTION_NAME.matcher(functionName.asText()).matches()) {
                return null;
            }
            String argumentsJson;
            if (callArguments == null || callArguments.isNull()) argumentsJson = "{}";
            else if (callArguments.isTextual()) argumentsJson = callArguments.asText();
            else argumentsJson = PythonJson.dumps(callArguments);
            String givenId = call.path("id").asText(null);
            parsed.add(new ToolCall(ToolCallIds.isValid(givenId) ? givenId : ToolCallIds.mint(random),
                    functionName.asText(), argumentsJson));
        }
        return parsed;
    }

    private void end(List<ChatDelta> deltas) {
        flush(deltas);
        closeCall(deltas);
        mode = Mode.DONE;
    }

    private OptionalInt special(String name, TokenizerVersion since) {
        return tekken.version().atLeast(since) ? tekken.findSpecialId(name) : OptionalInt.empty();
    }

    private static boolean is(OptionalInt special, int token) {
        return special.isPresent() && special.getAsInt() == token;
    }
}
