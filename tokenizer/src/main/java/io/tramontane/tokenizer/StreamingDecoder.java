package io.tramontane.tokenizer;

import java.util.Arrays;

/**
 * Decodes ids one at a time, for streaming generated text. An incomplete UTF-8 sequence at the end is held back
 * until the next ids complete it; a special token or {@link #flush()} ends it (as U+FFFD if still incomplete).
 * Concatenating everything returned equals {@link Tekken#decode} of all ids. Not thread-safe: one per stream.
 */
public final class StreamingDecoder {
    private final Tekken tekken;
    private final SpecialTokenPolicy policy;
    private byte[] pending = new byte[16];
    private int pendingLength;

    StreamingDecoder(Tekken tekken, SpecialTokenPolicy policy) {
        this.tekken = tekken;
        this.policy = policy;
    }

    /** The text that id completes: possibly empty, possibly including bytes held back from earlier ids. */
    public String accept(int id) {
        StringBuilder out = new StringBuilder();
        if (tekken.isSpecial(id)) {
            drain(out, true);
            tekken.appendSpecial(id, policy, out);
        } else {
            int length = tekken.tokenLength(id);
            if (pendingLength + length > pending.length) {
                pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + length));
            }
            pendingLength = tekken.copyTokenBytes(id, pending, pendingLength);
            drain(out, false);
        }
        return out.toString();
    }

    /** Ends the stream: the held-back bytes, as U+FFFD since nothing can complete them any more. */
    public String flush() {
        StringBuilder out = new StringBuilder();
        drain(out, true);
        return out.toString();
    }

    /** True when bytes are held back waiting for the next id. */
    public boolean hasPending() {
        return pendingLength > 0;
    }

    private void drain(StringBuilder out, boolean last) {
        int consumed = Utf8.decode(pending, 0, pendingLength, out, last);
        System.arraycopy(pending, consumed, pending, 0, pendingLength - consumed);
        pendingLength -= consumed;
    }
}
