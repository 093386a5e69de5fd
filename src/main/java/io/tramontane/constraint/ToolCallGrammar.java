package io.tramontane.constraint;

import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.TokenizerVersion;
import io.tramontane.tokenizer.instruct.Tool;
import io.tramontane.tokenizer.instruct.ToolCallIds;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The grammar of forced tool calls in the format of the tokenizer's version (control tokens as ids):
 * <ul>
 *   <li>v3, v7: {@code [TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]}</li>
 *   <li>v11: {@code [TOOL_CALLS]f[CALL_ID]abcDEF123[ARGS]{...}}, repeated for parallel calls</li>
 *   <li>v13+: {@code [TOOL_CALLS]f[ARGS]{...}}, repeated for parallel calls</li>
 * </ul>
 * Each call's arguments follow its function's {@code parameters} schema. The output then ends (EOS).
 */
final class ToolCallGrammar {
    private static final Pattern FUNCTION_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final String ID_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private ToolCallGrammar() {}

    /** The root node; {@code specials} receives the control token ids it uses. */
    static Node compile(Tekken tekken, ConstraintLimits limits, List<Tool> tools, String forcedName, boolean parallel,
                        List<Integer> specials) {
        List<Tool> chosen = choose(tools, forcedName);
        int calls = parallel ? limits.maxParallelCalls() : 1;
        TokenizerVersion version = tekken.version();
        int toolCalls = special(tekken, "[TOOL_CALLS]", specials);
        if (!version.atLeast(TokenizerVersion.V11)) {
            List<byte[]> heads = new ArrayList<>();
            Node[] rest = new Node[chosen.size()];
            for (int i = 0; i < chosen.size(); i++) {
                heads.add(bytes("{\"name\": \"" + chosen.get(i).name() + "\", \"arguments\": "));
                rest[i] = new SequenceShape(List.of(arguments(chosen.get(i), limits), TrieShape.literal("}")));
            }
            Node call = new TrieShape(heads, rest);
            return new SequenceShape(List.of(new SpecialShape(toolCalls), new ArrayShape(call, 1, calls)));
        }
        int args = special(tekken, "[ARGS]", specials);
        List<byte[]> names = new ArrayList<>();
        Node[] rest = new Node[chosen.size()];
        for (int i = 0; i < chosen.size(); i++) {
            names.add(bytes(chosen.get(i).name()));
            List<Node> parts = new ArrayList<>();
            if (version == TokenizerVersion.V11) {
                parts.add(new SpecialShape(special(tekken, "[CALL_ID]", specials)));
                parts.add(callId());
            }
            parts.add(new SpecialShape(args));
            parts.add(arguments(chosen.get(i), limits));
            rest[i] = new SequenceShape(parts);
        }
        Node call = new SequenceShape(List.of(new SpecialShape(toolCalls), new TrieShape(names, rest)));
        return new RepeatShape(call, 1, calls);
    }

    private static List<Tool> choose(List<Tool> tools, String forcedName) {
        if (tools == null || tools.isEmpty()) throw new ConstraintException("tools", "", "tool calls need at least one tool");
        for (Tool tool : tools) {
            if (!FUNCTION_NAME.matcher(tool.name()).matches()) {
                throw new ConstraintException("tools", "", "function name '" + tool.name() + "' must match " + FUNCTION_NAME);
            }
        }
        if (forcedName == null) return tools;
        List<Tool> named = tools.stream().filter(t -> t.name().equals(forcedName)).limit(1).toList();
        if (named.isEmpty()) throw new ConstraintException("tool_choice", "", "function '" + forcedName + "' is not among the tools");
        return named;
    }

    private static Node arguments(Tool tool, ConstraintLimits limits) {
        try {
            return new SchemaCompiler(limits, tool.parameters()).compileArguments();
        } catch (ConstraintException e) {
            throw new ConstraintException(e.keyword(), "/tools/" + tool.name() + "/parameters" + e.path(),
                    "parameters of function '" + tool.name() + "': " + e.getMessage());
        }
    }

    /** Exactly {@link ToolCallIds#LENGTH} letters and digits. */
    private static Node callId() {
        List<byte[]> characters = ID_CHARACTERS.chars().mapToObj(c -> new byte[] {(byte) c}).toList();
        return new RepeatShape(TrieShape.literals(characters), ToolCallIds.LENGTH, ToolCallIds.LENGTH);
    }

    private static int special(Tekken tekken, String name, List<Integer> specials) {
        int id = tekken.findSpecialId(name).orElseThrow(() -> new ConstraintException("tools", "",
                "the tokenizer (" + tekken.version().label() + ") has no " + name + " token"));
        if (!specials.contains(id)) specials.add(id);
        return id;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
