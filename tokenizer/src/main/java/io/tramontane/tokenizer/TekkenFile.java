package io.tramontane.tokenizer;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The content of a tekken.json: the pre-tokenizer pattern, the byte strings of the ordinary tokens in rank order
 * (token id = number of special tokens + rank), the control tokens and, from v15, the model settings.
 * {@link #read} validates a file; {@link #write} produces one that {@link #read} and {@link Tekken#load} accept.
 *
 * @param defaultVocabSize total number of ids, special and ordinary; ranks at or above
 *                         {@code defaultVocabSize - specialTokens.count()} are never used
 * @param modelSettings    null before v15
 */
public record TekkenFile(TokenizerVersion version, String pattern, int defaultVocabSize, List<byte[]> vocab,
                         SpecialTokens specialTokens, ModelSettings modelSettings) {

    /** The pre-tokenizer regex of every released Tekken file. */
    public static final String DEFAULT_PATTERN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
            + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    public TekkenFile {
        vocab = List.copyOf(vocab);
        if (pattern == null || pattern.isEmpty()) throw new IllegalArgumentException("pattern is missing");
        int usable = defaultVocabSize - specialTokens.count();
        if (usable < 256) {
            throw new IllegalArgumentException("default_vocab_size " + defaultVocabSize + " leaves " + usable
                    + " ordinary ids after " + specialTokens.count() + " special ones; at least 256 are needed");
        }
        if (vocab.size() < usable) {
            throw new IllegalArgumentException("vocab has " + vocab.size() + " entries, fewer than default_vocab_size - "
                    + "default_num_special_tokens = " + usable);
        }
        for (int rank = 0; rank < 256; rank++) {
            byte[] bytes = vocab.get(rank);
            if (bytes.length != 1 || (bytes[0] & 0xFF) != rank) {
                throw new IllegalArgumentException("vocab[" + rank + "] must be the single byte 0x"
                        + Integer.toHexString(rank) + " (ranks 0..255 are the 256 bytes in order)");
            }
        }
        if (version.atLeast(TokenizerVersion.V15) && modelSettings == null) modelSettings = ModelSettings.standard();
    }

    /**
     * A file for a vocabulary built in code (e.g. trained byte-level BPE): the standard pattern and control-token
     * names of {@code version}, {@code numSpecialTokens} special ids, every vocab entry used.
     */
    public static TekkenFile of(TokenizerVersion version, List<byte[]> vocab, int numSpecialTokens) {
        return new TekkenFile(version, DEFAULT_PATTERN, numSpecialTokens + vocab.size(), vocab,
                SpecialTokens.standard(version, numSpecialTokens), null);
    }

    /** Reads and validates a tekken.json; {@link TekkenFormatException} names the field that is wrong. */
    public static TekkenFile read(Path path) throws IOException {
        return TekkenFileReader.read(path);
    }

    public void write(Path path) throws IOException {
        try (OutputStream out = Files.newOutputStream(path)) {
            write(out);
        }
    }

    public void write(OutputStream out) throws IOException {
        TekkenFileWriter.write(this, out);
    }

    /** Number of ordinary tokens in use: {@code defaultVocabSize - specialTokens.count()}. */
    public int ordinaryTokenCount() {
        return defaultVocabSize - specialTokens.count();
    }
}
