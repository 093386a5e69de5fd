package io.tramontane.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The validated header of a safetensors file. Every rule of MODELS.md 3.2 is checked before any tensor
 * data is read: 8-byte little-endian length N, {@code N <= 100,000,000}, {@code 8 + N <= file length},
 * a UTF-8 JSON object starting with '{' followed only by whitespace, no duplicate names, known dtypes,
 * non-negative shapes whose byte size does not overflow and equals the offset range, and offsets that
 * tile the data buffer exactly (no holes, no overlap, nothing after the last tensor).
 *
 * @param dataStart byte offset of the data buffer in the file ({@code 8 + N})
 * @param entries   the tensors, sorted by offset
 */
public record SafetensorsHeader(long dataStart, Map<String, String> metadata, List<Entry> entries) {

    /** The reference implementation's limit on N. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ValueLayout.OfLong LENGTH = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** One tensor: {@code [begin, end)} is relative to the data buffer. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        public long byteSize() {
            return end - begin;
        }

        /** Safe after validation: the product fitted in a long. */
        public long elementCount() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    public SafetensorsHeader {
        metadata = Map.copyOf(metadata);
        entries = List.copyOf(entries);
    }

    /** Parses and validates the header of {@code file}, whose whole content is {@code bytes}. */
    public static SafetensorsHeader parse(Path file, MemorySegment bytes) {
        long length = bytes.byteSize();
        if (length < 8) {
            throw new CheckpointException(file, null, "file of " + length + " bytes is too short for a safetensors header");
        }
        long n = bytes.get(LENGTH, 0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new CheckpointException(file, null, "header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + n > length) {
            throw new CheckpointException(file, null, "header length " + n + " runs past the end of the file ("
                    + length + " bytes): truncated?");
        }
        JsonNode root = parseJson(file, bytes.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE));

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals("__metadata__")) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                entries.add(readEntry(file, field.getKey(), field.getValue()));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        checkTiling(file, entries, length - 8 - n);
        return new SafetensorsHeader(8 + n, metadata, entries);
    }

    private static JsonNode parseJson(Path file, byte[] raw) {
        if (raw.length == 0 || raw[0] != '{') {
            throw new CheckpointException(file, null, "header does not start with '{'");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, null, "header is not valid UTF-8");
        }
        try {
            JsonNode root = JSON.readTree(text);
            if (root == null || !root.isObject()) throw new CheckpointException(file, null, "header is not a JSON object");
            return root;
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, null, "header is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr()));
        }
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> metadata) {
        if (!node.isObject()) throw CheckpointException.tensor(file, "__metadata__", "must be an object of strings");
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw CheckpointException.tensor(file, "__metadata__", "value of '" + field.getKey() + "' is not a string");
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
    }

    private static Entry readEntry(Path file, String name, JsonNode node) {
        if (!node.isObject() || node.size() != ENTRY_KEYS.size() || !ENTRY_KEYS.stream().allMatch(node::has)) {
            throw CheckpointException.tensor(file, name, "entry must have exactly dtype, shape and data_offsets");
        }
        JsonNode dtypeNode = node.get("dtype");
        DType dtype;
        try {
            dtype = DType.parse(dtypeNode.isTextual() ? dtypeNode.textValue() : dtypeNode.toString());
        } catch (IllegalArgumentException e) {
            throw CheckpointException.tensor(file, name, e.getMessage());
        }
        long[] shape = nonNegativeLongs(file, name, "shape", node.get("shape"));
        long[] offsets = nonNegativeLongs(file, name, "data_offsets", node.get("data_offsets"));
        if (offsets.length != 2) throw CheckpointException.tensor(file, name, "data_offsets must be [begin, end]");
        long begin = offsets[0], end = offsets[1];
        if (end < begin) throw CheckpointException.tensor(file, name, "data_offsets end " + end + " < begin " + begin);
        long bytes;
        try {
            long elements = 1;
            for (long d : shape) elements = Math.multiplyExact(elements, d);
            bytes = Math.multiplyExact(elements, (long) dtype.bytes());
        } catch (ArithmeticException e) {
            throw CheckpointException.tensor(file, name, "shape " + Arrays.toString(shape) + " overflows 64 bits");
        }
        if (end - begin != bytes) {
            throw CheckpointException.tensor(file, name, dtype + Arrays.toString(shape) + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + ") hold " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] nonNegativeLongs(Path file, String name, String key, JsonNode node) {
        if (!node.isArray()) throw CheckpointException.tensor(file, name, key + " must be an array of integers");
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw CheckpointException.tensor(file, name, key + " must hold non-negative integers, found " + v);
            }
            values[i] = v.longValue();
        }
        return values;
    }

    /** Sorted entries must cover {@code [0, dataLength)} back to back. */
    private static void checkTiling(Path file, List<Entry> entries, long dataLength) {
        long expected = 0;
        for (Entry e : entries) {
            if (e.begin() != expected) {
                throw CheckpointException.tensor(file, e.name(), e.begin() < expected
                        ? "data_offsets [" + e.begin() + ", " + e.end() + ") overlap the previous tensor, which ends at " + expected
                        : "hole in the data buffer: tensor starts at " + e.begin() + ", the previous one ends at " + expected);
            }
            expected = e.end();
        }
        if (expected != dataLength) {
            throw new CheckpointException(file, null, "tensors cover " + expected + " bytes of a " + dataLength
                    + "-byte data buffer" + (expected > dataLength ? ": truncated?" : ": trailing bytes after the last tensor"));
        }
    }
}
