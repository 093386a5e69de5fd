package io.tramontane.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Tekken tokenizer of Mistral's 131k-vocabulary models: regex pre-tokenization, then rank-ordered byte-pair
 * merges; ids {@code 0..n-1} are the n special (control) tokens, ordinary token id = n + rank.
 * Immutable and thread-safe.
 */
public final class Tekken {
    private final TekkenFile file;
    private final Pattern pattern;
    private final RankTable ranks;
    private final SpecialTokens specials;
    private final int numSpecial;
    private final int vocabSize;

    private Tekken(TekkenFile file) {
        this.file = file;
        // Tekken's \s is Unicode White_Space; without this flag Java's \s is ASCII only
        this.pattern = Pattern.compile(file.pattern(), Pattern.UNICODE_CHARACTER_CLASS);
        this.ranks = RankTable.of(file.vocab().subList(0, file.ordinaryTokenCount()));
        this.specials = file.specialTokens();
        this.numSpecial = specials.count();
        this.vocabSize = file.defaultVocabSize();
    }

    public static Tekken load(Path path) throws IOException {
        return of(TekkenFile.read(path));
    }

    public static Tekken of(TekkenFile file) {
        return new Tekken(file);
    }

    public TekkenFile file() {
        return file;
    }

    public TokenizerVersion version() {
        return file.version();
    }

    /** Total number of ids, special and ordinary. */
    public int vocabSize() {
        return vocabSize;
    }

    public int numSpecialTokens() {
        return numSpecial;
    }

    public int bosId() {
        return specialId(SpecialTokens.BOS);
    }

    public int eosId() {
        return specialId(SpecialTokens.EOS);
    }

    /** The id of a control token by name, e.g. {@code [INST]}; throws when this tokenizer has none by that name. */
    public int specialId(String name) {
        return specials.find(name).orElseThrow(() -> new IllegalArgumentException(
                "tokenizer " + version().label() + " has no special token " + name));
    }

    public OptionalInt findSpecialId(String name) {
        return specials.find(name);
    }

    public boolean isSpecial(int id) {
        checkId(id);
        return id < numSpecial;
    }

    /** The name of a special id, or the bytes of an ordinary one decoded leniently (for display). */
    public String tokenText(int id) {
        StringBuilder out = new StringBuilder();
        if (isSpecial(id)) {
            out.append(specials.name(id));
        } else {
            byte[] bytes = tokenBytes(id);
            Utf8.decode(bytes, 0, bytes.length, out, true);
        }
        return out.toString();
    }

    /** The raw bytes of an ordinary id. */
    public byte[] tokenBytes(int id) {
        if (isSpecial(id)) throw new IllegalArgumentException("id " + id + " is the special token " + specials.name(id));
        return ranks.bytes(id - numSpecial);
    }

    /** Ids of plain text, without BOS/EOS; text that spells a control token is encoded as ordinary text. */
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 8);
        encode(text, out);
        return out.toArray();
    }

    void encode(String text, IntList out) {
        BytePairEncoder merger = new BytePairEncoder(ranks);
        byte[] piece = new byte[64];
        Matcher matcher = pattern.matcher(text);
        while (matcher.find()) {
            int start = matcher.start(), end = matcher.end();
            if (piece.length < 3 * (end - start)) piece = new byte[Math.max(3 * (end - start), 2 * piece.length)];
            int length = utf8(text, start, end, piece);
            int whole = ranks.rank(piece, 0, length);
            if (whole != RankTable.ABSENT) {
                out.add(whole + numSpecial);
            } else {
                merger.encode(piece, length, out, numSpecial);
            }
        }
    }

    /** The pre-tokenizer's pieces of {@code text}: each one is encoded on its own. */
    public List<String> pieces(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher matcher = pattern.matcher(text);
        while (matcher.find()) pieces.add(matcher.group());
        return pieces;
    }

    public String decode(int[] ids, SpecialTokenPolicy policy) {
        StringBuilder out = new StringBuilder(ids.length * 4);
        byte[] run = new byte[64];
        int runLength = 0;
        for (int id : ids) {
            if (isSpecial(id)) {
                Utf8.decode(run, 0, runLength, out, true);
                runLength = 0;
                appendSpecial(id, policy, out);
            } else {
                int length = tokenLength(id);
                if (runLength + length > run.length) {
                    run = java.util.Arrays.copyOf(run, Math.max(2 * run.length, runLength + length));
                }
                runLength = copyTokenBytes(id, run, runLength);
            }
        }
        Utf8.decode(run, 0, runLength, out, true);
        return out.toString();
    }

    /** A decoder for generated ids, one at a time, writing special tokens as their names. */
    public StreamingDecoder streamingDecoder() {
        return streamingDecoder(SpecialTokenPolicy.KEEP);
    }

    public StreamingDecoder streamingDecoder(SpecialTokenPolicy policy) {
        return new StreamingDecoder(this, policy);
    }

    void appendSpecial(int id, SpecialTokenPolicy policy, StringBuilder out) {
        switch (policy) {
            case KEEP -> out.append(specials.name(id));
            case IGNORE -> { }
            case RAISE -> throw new IllegalArgumentException("special token " + specials.name(id) + " (id " + id
                    + ") found while decoding with policy RAISE");
        }
    }

    int tokenLength(int id) {
        return ranks.length(id - numSpecial);
    }

    int copyTokenBytes(int id, byte[] out, int position) {
        return ranks.copyBytes(id - numSpecial, out, position);
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary 0.." + (vocabSize - 1));
        }
    }

    /** UTF-8 of {@code text[start..end)} into {@code out}; a lone surrogate is written as U+FFFD. */
    private static int utf8(String text, int start, int end, byte[] out) {
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                out[n++] = (byte) c;
            } else if (c < 0x800) {
                out[n++] = (byte) (0xC0 | (c >> 6));
                out[n++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                out[n++] = (byte) (0xF0 | (cp >> 18));
                out[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                out[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                int cp = Character.isSurrogate(c) ? Utf8.REPLACEMENT : c;
                out[n++] = (byte) (0xE0 | (cp >> 12));
                out[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return n;
    }
}
