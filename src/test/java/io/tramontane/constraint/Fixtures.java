package io.tramontane.constraint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.TekkenFile;
import io.tramontane.tokenizer.TokenizerVersion;
import io.tramontane.tokenizer.instruct.Tool;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/** Schemas, tools and tokenizers shared by the constraint tests, and a seeded random walk through a constraint. */
final class Fixtures {
    /** Strict: no trailing content after the value; Jackson already refuses leading zeros, NaN and raw control characters. */
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Fixtures() {}

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    static final String PERSON = """
            {"type": "object", "additionalProperties": false, "required": ["name", "age", "tags", "kind"], "properties": {
              "name": {"type": "string", "minLength": 1, "maxLength": 12},
              "age": {"type": "integer"},
              "score": {"type": "number"},
              "active": {"type": "boolean"},
              "nickname": {"type": ["string", "null"]},
              "tags": {"type": "array", "items": {"type": "string", "enum": ["red", "green", "blue"]}, "minItems": 1, "maxItems": 3},
              "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
                          "required": ["city"], "additionalProperties": false},
              "kind": {"const": "person"},
              "extra": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "boolean"}}]}}}""";

    /** Pydantic's shape: $defs with a $ref, Optional as anyOf with null, titles and defaults. */
    static final String PYDANTIC = """
            {"$defs": {"Item": {"title": "Item", "type": "object", "properties": {
                 "sku": {"title": "Sku", "type": "string"}, "qty": {"title": "Qty", "type": "integer", "default": 1}},
               "required": ["sku"]}},
             "title": "Order", "type": "object", "properties": {
               "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "maxItems": 2},
               "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null},
               "priority": {"enum": [1, 2, 3, "urgent", null, {"level": [1, 2]}]}},
             "required": ["items", "priority"]}""";

    static final List<String> SCHEMAS = List.of(PERSON, PYDANTIC,
            "{\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"number\"}}}}",
            "{\"type\": \"string\", \"maxLength\": 5}",
            "{\"type\": \"integer\"}",
            "{\"type\": \"object\"}",
            "{\"type\": \"object\", \"additionalProperties\": {\"type\": \"boolean\"}}",
            "{}",
            "{\"type\": [\"number\", \"boolean\", \"null\"]}");

    static final List<Tool> TOOLS = List.of(
            new Tool("get_weather", "Weather for a place", json("""
                    {"type": "object", "properties": {"location": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                     "required": ["location"]}""")),
            new Tool("get", "A prefix of the other name", json("{\"type\": \"object\", \"properties\": {}}")),
            new Tool("search", "", json("""
                    {"properties": {"query": {"type": "string", "minLength": 1}, "limit": {"type": "integer"}},
                     "required": ["query", "limit"], "additionalProperties": false}""")));

    /**
     * A small tokenizer: the 256 bytes plus tokens that cross JSON structure (quote and colon, closing
     * quote and brace), keywords, digits, escapes, whole and split UTF-8 characters.
     */
    static Tekken smallTokenizer(TokenizerVersion version) {
        List<byte[]> vocab = new ArrayList<>();
        for (int b = 0; b < 256; b++) vocab.add(new byte[] {(byte) b});
        for (String s : List.of("{\"", "\":", "\": ", "\": \"", "\", \"", "\",", "\"}", "\"]", "},", "}]", "}}", "]}",
                "[{\"", "[\"", "true", "false", "null", "nu", "12", "0.", "-1", ".5", "\\n", "\\u00", "\\u", "\\\"",
                "é", "é\"", "name", "\"name", "age", "red", "\"red\"", "green", "a\"}", ", ", "get", "_weather",
                "get_weather", "location", "{}", "ab", "abc", " \"", "1,", "\"\"")) {
            vocab.add(s.getBytes(StandardCharsets.UTF_8));
        }
        vocab.add(new byte[] {(byte) 0xE2, (byte) 0x82});                          // the first two bytes of €
        vocab.add(new byte[] {(byte) 0xF0, (byte) 0x9F});                          // the start of an emoji
        vocab.add(new byte[] {(byte) 0x98, (byte) 0x80, '"'});                     // its end, then a quote
        return Tekken.of(TekkenFile.of(version, vocab, 40));
    }

    /** The tokens a mask leaves finite. */
    static int[] allowed(TokenConstraint constraint, int vocabSize) {
        float[] logits = new float[vocabSize];
        constraint.mask(logits);
        return IntStream.range(0, vocabSize).filter(i -> logits[i] != Float.NEGATIVE_INFINITY).toArray();
    }

    /** Picks a random allowed token (EOS first when allowed) until EOS; fails when a mask allows nothing. */
    static int[] walk(TokenConstraint constraint, Tekken tekken, long seed, int maxSteps) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Integer> out = new ArrayList<>();
        for (int step = 0; step < maxSteps; step++) {
            int[] allowed = allowed(constraint, tekken.vocabSize());
            if (allowed.length == 0) throw new AssertionError("no token allowed after " + out + " in " + constraint);
            boolean eos = IntStream.of(allowed).anyMatch(t -> t == tekken.eosId());
            int token = eos && random.nextInt(3) > 0 ? tekken.eosId() : allowed[random.nextInt(allowed.length)];
            if (token == tekken.eosId() && !constraint.isComplete()) throw new AssertionError("EOS allowed before completion");
            constraint.accept(token);
            out.add(token);
            if (token == tekken.eosId()) return out.stream().mapToInt(Integer::intValue).toArray();
        }
        throw new AssertionError("no EOS within " + maxSteps + " steps: " + text(tekken, out.stream().mapToInt(i -> i).toArray()));
    }

    /** The bytes of the ordinary tokens, decoded as strict UTF-8 (special tokens and EOS dropped). */
    static String text(Tekken tekken, int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int t : tokens) if (!tekken.isSpecial(t)) bytes.writeBytes(tekken.tokenBytes(t));
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("output is not valid UTF-8: " + bytes, e);
        }
    }
}
