package io.tramontane.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded mutations of a valid checkpoint: truncation, random bytes, huge header lengths, overlapping
 * offsets, wrong dtypes, negative or overflowing shapes, broken JSON. Every case must either load or
 * fail with a {@link CheckpointException} naming the file; nothing else may escape.
 */
class CheckpointFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CASES_PER_SEED = 3000;

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void mutatedHeadersAndFilesFailCleanly(long seed) throws IOException {
        TinyModel.dense(seed).withFp8(new long[] {}, DType.F32).writeNative(tmp);
        Path file = tmp.resolve("consolidated.safetensors");
        byte[] base = Files.readAllBytes(file);
        Random random = new Random(seed);
        int[] rejected = new int[9], tried = new int[9];
        for (int i = 0; i < CASES_PER_SEED; i++) {
            int kind = random.nextInt(9);
            tried[kind]++;
            if (!tryParse(file, mutate(base, kind, random), kind)) rejected[kind]++;
        }
        System.out.printf("fuzz seed %d: rejected/tried per mutation kind %s / %s%n", seed, Arrays.toString(rejected), Arrays.toString(tried));
        assertThat(Arrays.stream(rejected).sum()).as("most mutations must be rejected").isGreaterThan(CASES_PER_SEED / 2);
    }

    @Test
    void mutatedCheckpointsOnDiskFailCleanly() throws IOException {
        TinyModel.dense(9).withFp8(new long[] {1}, DType.BF16).writeHf(tmp);
        Path file = tmp.resolve("model.safetensors"), config = tmp.resolve("config.json");
        byte[] base = Files.readAllBytes(file), baseConfig = Files.readAllBytes(config);
        Random random = new Random(99);
        for (int i = 0; i < 400; i++) {
            boolean mutateConfig = i % 4 == 0;
            Files.write(file, mutateConfig ? base : mutate(base, random.nextInt(9), random));
            Files.write(config, mutateConfig ? mutateJson(baseConfig, random) : baseConfig);
            try (Checkpoint c = Checkpoint.open(tmp)) {
                assertThat(c.weights().layers()).isNotEmpty();
            } catch (CheckpointException e) {
                assertThat(e.getMessage()).startsWith(tmp.toString());
            } catch (RuntimeException e) {
                fail("case " + i + " escaped as " + e, e);
            }
        }
    }

    /** True when the mutated bytes parse (every tensor then reads in bounds), false on a clean error. */
    private boolean tryParse(Path file, byte[] bytes, int kind) {
        try {
            SafetensorsFile f = SafetensorsFile.of(file, MemorySegment.ofArray(bytes));
            for (SafetensorsHeader.Entry e : f.entries()) {
                Tensor t = f.tensor(e.name());
                if (t.elementCount() > 0) {
                    t.get(0, 0);
                    t.get(t.rows() - 1, t.cols() - 1);
                }
            }
            return true;
        } catch (CheckpointException e) {
            assertThat(e.getMessage()).startsWith(file.toString());
            assertThat(e.file()).isEqualTo(file);
            return false;
        } catch (RuntimeException | Error e) {
            throw new AssertionError("mutation kind " + kind + " escaped as " + e, e);
        }
    }

    private static byte[] mutate(byte[] base, int kind, Random random) {
        int headerEnd = 8 + (int) ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] b = base.clone();
        switch (kind) {
            case 0 -> { // random bytes in the header
                for (int n = 1 + random.nextInt(4); n > 0; n--) b[8 + random.nextInt(headerEnd - 8)] = (byte) random.nextInt(256);
            }
            case 1 -> { // random bytes anywhere (data corruption is allowed to load)
                for (int n = 1 + random.nextInt(8); n > 0; n--) b[random.nextInt(b.length)] = (byte) random.nextInt(256);
            }
            case 2 -> b = Arrays.copyOf(base, random.nextInt(base.length)); // truncation
            case 3 -> { // header lengths: huge, negative, past the end, off by a little
                long[] lengths = {Long.MAX_VALUE, -1, Long.MIN_VALUE, 100_000_001L, base.length, base.length - 7,
                        headerEnd - 8 + 1 + random.nextInt(16), headerEnd - 8 - 1 - random.nextInt(16), random.nextLong()};
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(lengths[random.nextInt(lengths.length)]);
            }
            case 4 -> b = Arrays.copyOf(base, base.length + 1 + random.nextInt(64)); // trailing bytes
            default -> b = structural(base, headerEnd, kind, random);
        }
        return b;
    }

    /** Rewrites one header entry: offsets, dtype, shape or the JSON text itself. */
    private static byte[] structural(byte[] base, int headerEnd, int kind, Random random) {
        try {
            ObjectNode header = (ObjectNode) JSON.readTree(new String(base, 8, headerEnd - 8, StandardCharsets.UTF_8).trim());
            List<String> names = new ArrayList<>();
            header.fieldNames().forEachRemaining(n -> { if (!n.equals("__metadata__")) names.add(n); });
            ObjectNode entry = (ObjectNode) header.get(names.get(random.nextInt(names.size())));
            String text;
            switch (kind) {
                case 5 -> { // offsets: overlap, holes, past the end, reversed, negative, not numbers
                    ArrayNode o = (ArrayNode) entry.get("data_offsets");
                    long begin = o.get(0).asLong(), end = o.get(1).asLong();
                    long delta = random.nextInt(3) == 0 ? Long.MAX_VALUE - random.nextInt(3) : 1 + random.nextInt(64);
                    switch (random.nextInt(6)) {
                        case 0 -> o.set(0, begin - delta);
                        case 1 -> o.set(1, end + delta);
                        case 2 -> { o.set(0, end); o.set(1, begin); }
                        case 3 -> { o.set(0, begin + delta); o.set(1, end + delta); }
                        case 4 -> o.add(end);
                        default -> o.set(random.nextInt(2), JSON.getNodeFactory().textNode("0"));
                    }
                    text = header.toString();
                }
                case 6 -> { // dtypes: other known widths, unknown names, non-strings
                    String[] dtypes = {"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "I64", "I8", "BOOL", "U16",
                            "F8_E8M0", "F4", "bf16", "", "C64"};
                    if (random.nextInt(5) == 0) entry.put("dtype", 32);
                    else entry.put("dtype", dtypes[random.nextInt(dtypes.length)]);
                    text = header.toString();
                }
                case 7 -> { // shapes: negative, overflowing, huge, fractional, wrong rank, not numbers
                    ArrayNode s = entry.putArray("shape");
                    switch (random.nextInt(6)) {
                        case 0 -> s.add(-1 - random.nextInt(5)).add(8);
                        case 1 -> s.add(1L << 32).add(1L << 32);
                        case 2 -> s.add(Long.MAX_VALUE).add(2);
                        case 3 -> s.add(1.5);
                        case 4 -> s.add(new java.math.BigInteger("123456789012345678901234567890"));
                        default -> s.add("7");
                    }
                    text = header.toString();
                }
                default -> { // JSON text: duplicates, extra keys, missing keys, non-objects, garbage
                    String json = header.toString();
                    String name = names.getFirst();
                    text = switch (random.nextInt(7)) {
                        case 0 -> json.replaceFirst("\\{", "{\"" + name + "\":" + header.get(name) + ",");
                        case 1 -> json.replaceFirst("\"dtype\"", "\"extra\":1,\"dtype\"");
                        case 2 -> json.replaceFirst("\"shape\":\\[[0-9,]*\\],", "");
                        case 3 -> json.replaceFirst("\\{\"dtype\"", "[{\"dtype\"").replaceFirst("\\]\\}", "]}]");
                        case 4 -> json + "x";
                        case 5 -> "[" + json + "]";
                        default -> json.replace("\"__metadata__\":{\"format\":\"pt\"}", "\"__metadata__\":{\"format\":1}");
                    };
                }
            }
            return rebuild(text.getBytes(StandardCharsets.UTF_8), Arrays.copyOfRange(base, headerEnd, base.length));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] rebuild(byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(header.length).put(header).put(data).array();
    }

    /** A config with one value replaced by something of the wrong kind, size or sign. */
    private static byte[] mutateJson(byte[] config, Random random) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(config);
        List<String> keys = new ArrayList<>();
        root.fieldNames().forEachRemaining(keys::add);
        String key = keys.get(random.nextInt(keys.size()));
        JsonNode[] values = {JSON.getNodeFactory().numberNode(-1), JSON.getNodeFactory().numberNode(0),
                JSON.getNodeFactory().numberNode(1e300), JSON.getNodeFactory().numberNode(3.5),
                JSON.getNodeFactory().textNode("x"), JSON.getNodeFactory().nullNode(), JSON.createArrayNode(),
                JSON.createObjectNode(), JSON.getNodeFactory().numberNode(Long.MAX_VALUE), JSON.getNodeFactory().booleanNode(true)};
        switch (random.nextInt(3)) {
            case 0 -> root.set(key, values[random.nextInt(values.length)]);
            case 1 -> root.remove(key);
            default -> {
                byte[] text = root.toString().getBytes(StandardCharsets.UTF_8);
                return Arrays.copyOf(text, random.nextInt(text.length));
            }
        }
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }
}
