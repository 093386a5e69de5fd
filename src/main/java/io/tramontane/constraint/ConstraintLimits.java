package io.tramontane.constraint;

/**
 * Caps that bound every constrained output, so that even a model with random weights ends with valid JSON:
 * no unbounded string, number, array, object or nesting exists in the automaton. A schema's own
 * {@code maxLength} / {@code maxItems} apply when tighter. These caps bound the length in bytes; a request's
 * {@code max_tokens} may still cut the output before it is complete.
 *
 * @param maxStringLength   characters in any string (keys included)
 * @param maxIntegerDigits  digits before the decimal point
 * @param maxFractionDigits digits after it (numbers are written without exponent)
 * @param maxArrayItems     items of an array whose schema sets no smaller {@code maxItems}
 * @param maxObjectMembers  members of an object with free keys ({@code json_object}, objects without {@code properties})
 * @param maxDepth          nesting of free JSON values ({@code json_object} mode, schemas without a type)
 * @param maxParallelCalls  tool calls in one output when parallel calls are allowed
 */
public record ConstraintLimits(int maxStringLength, int maxIntegerDigits, int maxFractionDigits, int maxArrayItems,
                               int maxObjectMembers, int maxDepth, int maxParallelCalls) {

    public ConstraintLimits {
        if (maxStringLength < 1 || maxIntegerDigits < 1 || maxFractionDigits < 0 || maxArrayItems < 1
                || maxObjectMembers < 1 || maxDepth < 1 || maxParallelCalls < 1) {
            throw new IllegalArgumentException("constraint limits must be positive (fraction digits may be 0): " + this);
        }
    }

    /** Roomy enough for real models writing code into tool arguments; see docs/structured-output.md. */
    public static ConstraintLimits defaults() {
        return new ConstraintLimits(32_768, 15, 9, 256, 64, 6, 8);
    }

    /** Small caps for models with random weights (the demo model): outputs stay a few hundred bytes. */
    public static ConstraintLimits compact() {
        return new ConstraintLimits(16, 6, 3, 4, 4, 2, 2);
    }

    public ConstraintLimits withMaxStringLength(int n) {
        return new ConstraintLimits(n, maxIntegerDigits, maxFractionDigits, maxArrayItems, maxObjectMembers, maxDepth, maxParallelCalls);
    }

    public ConstraintLimits withMaxArrayItems(int n) {
        return new ConstraintLimits(maxStringLength, maxIntegerDigits, maxFractionDigits, n, maxObjectMembers, maxDepth, maxParallelCalls);
    }
}
