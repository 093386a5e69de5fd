package io.tramontane.tokenizer;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Parses tekken.json into a {@link TekkenFile}, rejecting broken files with the field that is wrong. */
final class TekkenFileReader {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RawFile(RawConfig config, List<RawVocabEntry> vocab,
                   @JsonProperty("special_tokens") List<RawSpecial> specialTokens,
                   @JsonProperty("model_settings_builder") RawSettings modelSettings) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RawConfig(String pattern, String version,
                     @JsonProperty("num_vocab_tokens") Integer numVocabTokens,
                     @JsonProperty("default_vocab_size") Integer defaultVocabSize,
                     @JsonProperty("default_num_special_tokens") Integer defaultNumSpecialTokens) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RawVocabEntry(Integer rank, @JsonProperty("token_bytes") String tokenBytes) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RawSpecial(Integer rank, @JsonProperty("token_str") String tokenStr) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RawSettings(@JsonProperty("reasoning_effort") RawEnum reasoningEffort) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RawEnum(List<String> values, @JsonProperty("accepts_none") Boolean acceptsNone,
                   @JsonProperty("default") String defaultValue) {}

    private final String source;

    private TekkenFileReader(String source) {
        this.source = source;
    }

    static TekkenFile read(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return read(in, path.toString());
        }
    }

    static TekkenFile read(InputStream in, String source) throws IOException {
        RawFile raw;
        try {
            raw = JSON.readValue(in, RawFile.class);
        } catch (JacksonException e) {
            throw new TekkenFormatException(source + ": not a valid tekken.json: " + e.getOriginalMessage(), e);
        }
        return new TekkenFileReader(source).convert(raw);
    }

    private TekkenFile convert(RawFile raw) {
        RawConfig config = require(raw.config(), "config");
        String pattern = require(config.pattern(), "config.pattern");
        TokenizerVersion version = version(require(config.version(), "config.version"));
        int numSpecial = require(config.defaultNumSpecialTokens(), "config.default_num_special_tokens");
        int vocabSize = require(config.defaultVocabSize(), "config.default_vocab_size");
        List<RawVocabEntry> entries = require(raw.vocab(), "vocab");
        if (numSpecial < 0 || vocabSize - numSpecial < 256) {
            throw fail("config.default_vocab_size (" + vocabSize + ") minus config.default_num_special_tokens ("
                    + numSpecial + ") must leave at least 256 ordinary tokens");
        }
        if (config.numVocabTokens() != null && entries.size() < config.numVocabTokens()) {
            throw fail("vocab has " + entries.size() + " entries but config.num_vocab_tokens declares "
                    + config.numVocabTokens());
        }
        int used = vocabSize - numSpecial;
        if (entries.size() < used) {
            throw fail("vocab has " + entries.size() + " entries, fewer than config.default_vocab_size - "
                    + "config.default_num_special_tokens = " + used);
        }
        List<byte[]> vocab = decodeVocab(entries, used);
        SpecialTokens specials = specialTokens(raw.specialTokens(), numSpecial, version);
        ModelSettings settings = raw.modelSettings() == null ? null : modelSettings(raw.modelSettings());
        try {
            return new TekkenFile(version, pattern, vocabSize, vocab, specials, settings);
        } catch (IllegalArgumentException e) {
            throw fail(e.getMessage());
        }
    }

    private TokenizerVersion version(String text) {
        try {
            return TokenizerVersion.parse(text);
        } catch (IllegalArgumentException e) {
            throw fail("config.version: " + e.getMessage());
        }
    }

    private List<byte[]> decodeVocab(List<RawVocabEntry> entries, int used) {
        Base64.Decoder base64 = Base64.getDecoder();
        List<byte[]> vocab = new ArrayList<>(used);
        for (int i = 0; i < used; i++) {
            RawVocabEntry entry = entries.get(i);
            if (entry == null) throw fail("vocab[" + i + "] is null");
            Integer rank = require(entry.rank(), "vocab[" + i + "].rank");
            if (rank != i) throw fail("vocab[" + i + "].rank is " + rank + ": ranks must be 0, 1, 2, ... in order");
            String encoded = require(entry.tokenBytes(), "vocab[" + i + "].token_bytes");
            try {
                vocab.add(base64.decode(encoded));
            } catch (IllegalArgumentException e) {
                throw fail("vocab[" + i + "].token_bytes is not valid base64 ('" + encoded + "'): " + e.getMessage());
            }
            byte[] bytes = vocab.get(i);
            if (i < 256 && (bytes.length != 1 || (bytes[0] & 0xFF) != i)) {
                throw fail("vocab[" + i + "] must be the single byte 0x" + Integer.toHexString(i)
                        + " (ranks 0..255 are the 256 bytes in order)");
            }
            if (bytes.length == 0) throw fail("vocab[" + i + "].token_bytes is empty");
        }
        try {
            RankTable.of(vocab);
        } catch (IllegalArgumentException e) {
            throw fail("vocab: " + e.getMessage());
        }
        return vocab;
    }

    private SpecialTokens specialTokens(List<RawSpecial> raw, int count, TokenizerVersion version) {
        if (raw == null) {
            if (version.atLeast(TokenizerVersion.V11)) {
                throw fail("special_tokens is missing; it may only be left out up to v7, this file is " + version.label());
            }
            return SpecialTokens.standard(version, count);
        }
        List<SpecialToken> tokens = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            RawSpecial special = raw.get(i);
            if (special == null) throw fail("special_tokens[" + i + "] is null");
            int rank = require(special.rank(), "special_tokens[" + i + "].rank");
            String name = require(special.tokenStr(), "special_tokens[" + i + "].token_str");
            if (rank < 0 || rank >= count) {
                throw fail("special_tokens[" + i + "].rank is " + rank + ", expected 0.." + (count - 1)
                        + " (config.default_num_special_tokens = " + count + ")");
            }
            if (name.isEmpty()) throw fail("special_tokens[" + i + "].token_str is empty");
            tokens.add(new SpecialToken(rank, name));
        }
        try {
            return SpecialTokens.of(count, tokens);
        } catch (IllegalArgumentException e) {
            throw fail("special_tokens: " + e.getMessage());
        }
    }

    private ModelSettings modelSettings(RawSettings raw) {
        RawEnum effort = require(raw.reasoningEffort(), "model_settings_builder.reasoning_effort");
        List<String> values = require(effort.values(), "model_settings_builder.reasoning_effort.values");
        String defaultValue = require(effort.defaultValue(), "model_settings_builder.reasoning_effort.default");
        if (!values.contains(defaultValue)) {
            throw fail("model_settings_builder.reasoning_effort.default '" + defaultValue + "' is not one of " + values);
        }
        return new ModelSettings(values, Boolean.TRUE.equals(effort.acceptsNone()), defaultValue);
    }

    private <T> T require(T value, String field) {
        if (value == null) throw fail(field + " is missing");
        return value;
    }

    private TekkenFormatException fail(String message) {
        return new TekkenFormatException(source + ": " + message);
    }
}
