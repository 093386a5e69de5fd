package io.tramontane.constraint;

import java.util.Arrays;

/**
 * The tokens allowed in one automaton state, stored as whichever list is shorter: the allowed ids (typical
 * between values) or the forbidden ones (typical inside strings). Immutable.
 *
 * @param listsAllowed true: {@code ids} are the allowed tokens; false: {@code ids} are the forbidden ones
 *                     among {@code [0, vocabSize)}, and every id from {@code vocabSize} on is forbidden too
 */
record TokenMask(boolean listsAllowed, int[] ids, int vocabSize) {

    static TokenMask of(boolean[] allowed) {
        int count = 0;
        for (boolean a : allowed) if (a) count++;
        boolean listAllowed = count <= allowed.length / 2;
        int[] ids = new int[listAllowed ? count : allowed.length - count];
        int n = 0;
        for (int id = 0; id < allowed.length; id++) if (allowed[id] == listAllowed) ids[n++] = id;
        return new TokenMask(listAllowed, ids, allowed.length);
    }

    boolean allows(int token) {
        if (token < 0 || token >= vocabSize) return false;
        return (Arrays.binarySearch(ids, token) >= 0) == listsAllowed;
    }

    int allowedCount() {
        return listsAllowed ? ids.length : vocabSize - ids.length;
    }

    /** Sets every forbidden logit to negative infinity. */
    void apply(float[] logits) {
        if (listsAllowed) {
            float[] kept = new float[ids.length];
            for (int i = 0; i < ids.length; i++) kept[i] = ids[i] < logits.length ? logits[ids[i]] : 0;
            Arrays.fill(logits, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < ids.length; i++) if (ids[i] < logits.length) logits[ids[i]] = kept[i];
        } else {
            for (int id : ids) if (id < logits.length) logits[id] = Float.NEGATIVE_INFINITY;
            if (vocabSize < logits.length) Arrays.fill(logits, vocabSize, logits.length, Float.NEGATIVE_INFINITY);
        }
    }
}
