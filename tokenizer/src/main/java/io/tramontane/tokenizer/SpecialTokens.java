package io.tramontane.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/** The control tokens of a tokenizer: ids {@code 0..count-1}, each with a unique name. */
public final class SpecialTokens {
    public static final String BOS = "<s>", EOS = "</s>";

    private final String[] names;
    private final Map<String, Integer> idsByName;

    private SpecialTokens(String[] names) {
        this.names = names;
        this.idsByName = new HashMap<>(names.length * 2);
        for (int id = 0; id < names.length; id++) {
            Integer previous = idsByName.putIfAbsent(names[id], id);
            if (previous != null) {
                throw new IllegalArgumentException("special token name '" + names[id] + "' is used by ids "
                        + previous + " and " + id);
            }
        }
    }

    /** {@code count} tokens; the listed ones carry their names, every other id is {@code <SPECIAL_n>}. */
    public static SpecialTokens of(int count, List<SpecialToken> named) {
        String[] names = new String[count];
        for (SpecialToken token : named) {
            if (token.id() >= count) {
                throw new IllegalArgumentException("special token " + token.name() + " has id " + token.id()
                        + " but there are only " + count + " special ids");
            }
            if (names[token.id()] != null) {
                throw new IllegalArgumentException("special token id " + token.id() + " is listed twice");
            }
            names[token.id()] = token.name();
        }
        for (int id = 0; id < count; id++) {
            if (names[id] == null) names[id] = "<SPECIAL_" + id + ">";
        }
        return new SpecialTokens(names);
    }

    /** The names Mistral gives to ids 0..37 for {@code version}; every other id is {@code <SPECIAL_n>}. */
    public static SpecialTokens standard(TokenizerVersion version, int count) {
        return of(count, standardNamed(version).stream().filter(t -> t.id() < count).toList());
    }

    static List<SpecialToken> standardNamed(TokenizerVersion version) {
        List<String> base = List.of("<unk>", BOS, EOS, "[INST]", "[/INST]", "[AVAILABLE_TOOLS]",
                "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>",
                "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]", "[SYSTEM_PROMPT]",
                "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]");
        List<SpecialToken> tokens = new ArrayList<>();
        for (int id = 0; id < base.size(); id++) tokens.add(new SpecialToken(id, base.get(id)));
        if (version.atLeast(TokenizerVersion.V11)) {
            tokens.add(new SpecialToken(32, "[ARGS]"));
            tokens.add(new SpecialToken(33, "[CALL_ID]"));
        }
        if (version.atLeast(TokenizerVersion.V13)) {
            tokens.add(new SpecialToken(34, "[THINK]"));
            tokens.add(new SpecialToken(35, "[/THINK]"));
        }
        if (version.atLeast(TokenizerVersion.V15)) {
            tokens.add(new SpecialToken(36, "[MODEL_SETTINGS]"));
            tokens.add(new SpecialToken(37, "[/MODEL_SETTINGS]"));
        }
        return tokens;
    }

    public int count() {
        return names.length;
    }

    public String name(int id) {
        return names[id];
    }

    public OptionalInt find(String name) {
        Integer id = idsByName.get(name);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** All tokens in id order. */
    public List<SpecialToken> all() {
        List<SpecialToken> all = new ArrayList<>(names.length);
        for (int id = 0; id < names.length; id++) all.add(new SpecialToken(id, names[id]));
        return all;
    }
}
