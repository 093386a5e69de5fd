package io.tramontane.tokenizer;

import java.util.List;

/**
 * The v15 {@code model_settings_builder} of a tekken.json: which {@code reasoning_effort} values a request may
 * give, whether it may leave it out, and the value written when it does.
 */
public record ModelSettings(List<String> reasoningEffortValues, boolean acceptsNone, String defaultReasoningEffort) {
    public ModelSettings {
        reasoningEffortValues = List.copyOf(reasoningEffortValues);
        if (!reasoningEffortValues.contains(defaultReasoningEffort)) {
            throw new IllegalArgumentException("default reasoning_effort '" + defaultReasoningEffort
                    + "' is not one of " + reasoningEffortValues);
        }
    }

    /** What the released v15 files declare: "none" or "high", absent means "none". */
    public static ModelSettings standard() {
        return new ModelSettings(List.of("none", "high"), true, "none");
    }
}
