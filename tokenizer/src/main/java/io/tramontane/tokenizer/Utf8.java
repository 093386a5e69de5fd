package io.tramontane.tokenizer;

/**
 * UTF-8 decoding with one U+FFFD per maximal ill-formed subsequence (Unicode's "best practice", as CPython does).
 * Java's own decoder differs on encoded surrogates ({@code ED A0..BF}), hence this class.
 */
final class Utf8 {
    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {}

    /**
     * Decodes {@code bytes[from..to)} into {@code out}. When {@code last} is false an incomplete sequence at the end
     * is left undecoded and its start is returned; when true it becomes U+FFFD and {@code to} is returned.
     * Like CPython's incremental decoder, a trailing {@code ED A0..BF} also waits when not last, although it can
     * only end as three replacement characters.
     */
    static int decode(byte[] bytes, int from, int to, StringBuilder out, boolean last) {
        int i = from;
        while (i < to) {
            int lead = bytes[i] & 0xFF;
            if (lead < 0x80) {
                out.append((char) lead);
                i++;
                continue;
            }
            int needed, low = 0x80, high = 0xBF, codePoint;
            if (lead >= 0xC2 && lead <= 0xDF) {
                needed = 1;
                codePoint = lead & 0x1F;
            } else if (lead >= 0xE0 && lead <= 0xEF) {
                needed = 2;
                codePoint = lead & 0x0F;
                if (lead == 0xE0) low = 0xA0;
                if (lead == 0xED) high = 0x9F;
            } else if (lead >= 0xF0 && lead <= 0xF4) {
                needed = 3;
                codePoint = lead & 0x07;
                if (lead == 0xF0) low = 0x90;
                if (lead == 0xF4) high = 0x8F;
            } else {
                out.append(REPLACEMENT);
                i++;
                continue;
            }
            int j = i + 1;
            boolean complete = true;
            for (int k = 0; k < needed; k++, j++) {
                if (j >= to) {
                    complete = false;
                    break;
                }
                int next = bytes[j] & 0xFF;
                if (next < low || next > high) {
                    if (!last && k == 0 && lead == 0xED && next >= 0xA0 && next <= 0xBF && j + 1 == to) return i;
                    complete = false;
                    break;
                }
                codePoint = (codePoint << 6) | (next & 0x3F);
                low = 0x80;
                high = 0xBF;
            }
            if (complete) {
                out.appendCodePoint(codePoint);
            } else if (j >= to && !last) {
                return i;
            } else {
                out.append(REPLACEMENT);
            }
            i = j;
        }
        return to;
    }
}
