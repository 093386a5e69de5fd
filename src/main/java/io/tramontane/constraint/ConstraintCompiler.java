package io.tramontane.constraint;

import com.fasterxml.jackson.databind.JsonNode;
import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.instruct.Tool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Structured output for one tokenizer: compiles JSON schemas, the {@code json_object} mode and forced tool
 * calls into grammars over its vocabulary, and hands out one {@link TokenConstraint} per request. Keep one
 * per model: the sorted vocabulary, the compiled grammars (the last {@value #MAX_GRAMMARS} distinct ones) and
 * their token masks are cached inside. Thread-safe.
 */
public final class ConstraintCompiler {
    static final int MAX_GRAMMARS = 64;

    private final Tekken tekken;
    private final ConstraintLimits limits;
    private final Vocabulary vocabulary;
    private final Map<String, Grammar> grammars = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
            return size() > MAX_GRAMMARS;
        }
    };

    private ConstraintCompiler(Tekken tekken, ConstraintLimits limits) {
        this.tekken = tekken;
        this.limits = limits;
        this.vocabulary = new Vocabulary(tekken);
    }

    /** With {@link ConstraintLimits#defaults()}. */
    public static ConstraintCompiler forTokenizer(Tekken tekken) {
        return forTokenizer(tekken, ConstraintLimits.defaults());
    }

    public static ConstraintCompiler forTokenizer(Tekken tekken, ConstraintLimits limits) {
        return new ConstraintCompiler(tekken, limits);
    }

    public ConstraintLimits limits() {
        return limits;
    }

    /** {@code response_format: {"type": "json_object"}}: any JSON object. */
    public TokenConstraint jsonObject() {
        return constraint(grammar("object", () -> new SchemaCompiler(limits, null).anyObject(), List.of()));
    }

    /**
     * {@code response_format: {"type": "json_schema"}}, given the {@code schema} member.
     *
     * @throws ConstraintException naming the keyword when the schema uses something unsupported
     */
    public TokenConstraint jsonSchema(JsonNode schema) {
        if (schema == null) throw new ConstraintException("schema", "", "json_schema needs a schema");
        return constraint(grammar("schema:" + schema, () -> new SchemaCompiler(limits, schema).compile(), List.of()));
    }

    /**
     * Forced tool calls ({@code tool_choice: "required"}, or a named function) in the tool-call format of the
     * tokenizer's version, each call's arguments following its function's parameters schema; complete (only
     * EOS allowed) after the last call.
     *
     * @param forcedName the function that must be called, or null for any of {@code tools}
     * @param parallel   true: 1 to {@link ConstraintLimits#maxParallelCalls()} calls; false: exactly one
     * @throws ConstraintException for an unknown forced name or an unsupported parameters schema
     */
    public TokenConstraint toolCalls(List<Tool> tools, String forcedName, boolean parallel) {
        StringBuilder key = new StringBuilder("tools:").append(forcedName).append(':').append(parallel);
        if (tools != null) for (Tool t : tools) key.append('\n').append(t.name()).append(' ').append(t.parameters());
        List<Integer> specials = new ArrayList<>();
        return constraint(grammar(key.toString(),
                () -> ToolCallGrammar.compile(tekken, limits, tools, forcedName, parallel, specials), specials));
    }

    /** The cached grammar for {@code key}, compiled (outside the lock) when missing. */
    private Grammar grammar(String key, Supplier<Node> compile, List<Integer> specials) {
        synchronized (grammars) {
            Grammar cached = grammars.get(key);
            if (cached != null) return cached;
        }
        Node root = compile.get();
        Grammar grammar = new Grammar(root, specials.stream().mapToInt(Integer::intValue).toArray(), vocabulary,
                tekken.vocabSize(), tekken.eosId());
        synchronized (grammars) {
            return grammars.computeIfAbsent(key, k -> grammar);
        }
    }

    private TokenConstraint constraint(Grammar grammar) {
        return new GrammarConstraint(grammar, tekken);
    }
}
