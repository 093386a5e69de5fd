package io.tramontane.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The safetensors rules of MODELS.md 3.2, one by one, and the writer/reader round trip. */
class SafetensorsFileTest {
    private static final Path FILE = Path.of("test.safetensors");

    @TempDir
    Path tmp;

    /** A file with header {@code json} (no padding added) followed by {@code dataBytes} zero bytes. */
    static byte[] file(String json, int dataBytes) {
        return file(json.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    static byte[] file(byte[] header, int dataBytes) {
        return ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).array();
    }

    static SafetensorsFile parse(byte[] bytes) {
        return SafetensorsFile.of(FILE, MemorySegment.ofArray(bytes));
    }

    static void rejected(byte[] bytes, String... fragments) {
        assertThatThrownBy(() -> parse(bytes)).isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(FILE.toString()).hasMessageContainingAll(fragments);
    }

    @Test
    void acceptsPaddingScalarsEmptyTensorsAndUnalignedData() {
        SafetensorsFile f = parse(file("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"e\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,3],\"data_offsets\":[5,11]},"
                + "\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5]}}   ", 11));
        assertThat(f.header().metadata()).containsEntry("format", "pt");
        assertThat(f.entries()).extracting(SafetensorsHeader.Entry::name).containsExactly("s", "e", "u", "b");
        assertThat(f.tensor("s").scalar()).isZero();
        assertThat(f.tensor("e").elementCount()).isZero();
        assertThat(f.tensor("b").get(0, 2)).isZero();
    }

    @Test
    void acceptsAnEmptyFile() {
        assertThat(parse(file("{}", 0)).entries()).isEmpty();
    }

    @Test
    void headerLengthBounds() {
        rejected(new byte[7], "too short");
        byte[] huge = file("{}", 0);
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L);
        rejected(huge, "exceeds the limit");
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(-8);
        rejected(huge, "exceeds the limit");
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(3);
        rejected(huge, "runs past the end");
    }

    @Test
    void headerMustBeUtf8JsonObjectWithOnlyWhitespaceAfter() {
        rejected(file(" {}", 0), "does not start with '{'");
        rejected(file(new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}, 0), "not valid UTF-8");
        rejected(file("{\"a\":", 0), "not valid JSON");
        rejected(file("{} x", 0), "not valid JSON");
        rejected(file("{}{}", 0), "not valid JSON");
        rejected(file("{}\0\0", 0), "not valid JSON");
        assertThat(parse(file("{} \n\t", 0)).entries()).as("JSON whitespace, as the reference parser").isEmpty();
    }

    @Test
    void duplicateNamesAreRejected() {
        String entry = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        rejected(file("{\"t\":" + entry + ",\"t\":" + entry + "}", 1), "Duplicate field 't'");
    }

    @Test
    void entriesNeedExactlyTheThreeKeysWithValidValues() {
        rejected(file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "tensor 't'", "exactly dtype, shape and data_offsets");
        rejected(file("{\"t\":{\"dtype\":\"F8_E8M0\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "tensor 't'", "unknown dtype 'F8_E8M0'");
        rejected(file("{\"t\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1), "tensor 't'", "non-negative");
        rejected(file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}}", 1), "tensor 't'", "non-negative integers");
        rejected(file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1), "tensor 't'", "[begin, end]");
        rejected(file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,0]}}", 1), "tensor 't'", "end 0 < begin 1");
        rejected(file("{\"__metadata__\":{\"n\":1}}", 0), "__metadata__", "not a string");
    }

    @Test
    void shapeProductsAreOverflowGuardedAndMustMatchTheByteRange() {
        rejected(file("{\"t\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8), "tensor 't'", "overflows");
        rejected(file("{\"t\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", 8), "tensor 't'", "overflows");
        rejected(file("{\"t\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,5]}}", 5), "tensor 't'", "needs 6 bytes");
    }

    @Test
    void offsetsMustTileTheDataBuffer() {
        String a = "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[%d,%d]}";
        String b = "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[%d,%d]}";
        rejected(file("{" + a.formatted(0, 2) + "," + b.formatted(1, 3) + "}", 3), "tensor 'b'", "overlap");
        rejected(file("{" + a.formatted(0, 2) + "," + b.formatted(3, 5) + "}", 5), "tensor 'b'", "hole");
        rejected(file("{" + a.formatted(1, 3) + "}", 3), "tensor 'a'", "hole");
        rejected(file("{" + a.formatted(0, 2) + "," + b.formatted(2, 4) + "}", 5), "trailing bytes");
        rejected(file("{" + a.formatted(0, 2) + "," + b.formatted(2, 4) + "}", 3), "truncated");
    }

    @Test
    void mapsFromDiskAndUnmapsWithTheArena() throws Exception {
        Path path = tmp.resolve("x.safetensors");
        new SafetensorsWriter().addFloats("x", new long[] {2, 2}, new float[] {1, 2, 3, 4}).write(path);
        Tensor x;
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(path, arena);
            assertThat(f.content().isMapped()).isTrue();
            x = f.tensor("x");
            assertThat(x.get(1, 0)).isEqualTo(3f);
            assertThat(f.header().dataStart() % 8).as("writer aligns the data buffer").isZero();
        }
        assertThatThrownBy(() -> x.get(0, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> SafetensorsFile.open(tmp.resolve("absent.safetensors"), Arena.global()))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("absent.safetensors");
        Files.write(tmp.resolve("empty.safetensors"), new byte[0]);
        assertThatThrownBy(() -> SafetensorsFile.open(tmp.resolve("empty.safetensors"), Arena.global()))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("too short");
    }

    /** Property: whatever the writer writes, the reader gives back (names, dtypes, shapes, bytes). */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
    void writerRoundTrip(long seed) {
        Random random = new Random(seed);
        DType[] dtypes = DType.values();
        record T(String name, DType dtype, long[] shape, byte[] bytes) {}
        List<T> tensors = new ArrayList<>();
        SafetensorsWriter w = new SafetensorsWriter().metadata("seed", Long.toString(seed));
        for (int i = 0, n = random.nextInt(12); i < n; i++) {
            long[] shape = new long[random.nextInt(4)];
            int elements = 1;
            for (int d = 0; d < shape.length; d++) elements *= (int) (shape[d] = random.nextInt(5));
            DType dtype = dtypes[random.nextInt(dtypes.length)];
            byte[] bytes = new byte[elements * dtype.bytes()];
            random.nextBytes(bytes);
            T t = new T("t" + i + "." + random.nextInt(1000), dtype, shape, bytes);
            tensors.add(t);
            w.add(t.name, t.dtype, t.shape, MemorySegment.ofArray(bytes));
        }
        Path path = tmp.resolve("round.safetensors");
        w.write(path);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(path, arena);
            assertThat(f.header().metadata()).containsEntry("seed", Long.toString(seed));
            assertThat(f.entries()).hasSize(tensors.size());
            for (T t : tensors) {
                Tensor read = f.tensor(t.name);
                assertThat(read.dtype()).isEqualTo(t.dtype);
                assertThat(read.shape()).isEqualTo(t.shape);
                assertThat(read.contiguousData().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(t.bytes);
            }
        }
    }
}
