package io.tramontane.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file: tensors in the order added, header space-padded so the data buffer starts
 * at a multiple of 8. A tensor {@link #reserve reserved} without data is left as a hole, so a file of
 * any size can be written sparse (only its header and small tensors occupy disk).
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record Pending(String name, DType dtype, long[] shape, long bytes, MemorySegment data) {}

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor whose little-endian row-major bytes are {@code data}. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        long bytes = byteSize(name, dtype, shape);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException(name + ": expected " + bytes + " bytes, got " + data.byteSize());
        }
        tensors.add(new Pending(name, dtype, shape.clone(), bytes, data));
        return this;
    }

    public SafetensorsWriter addFloats(String name, long[] shape, float[] values) {
        MemorySegment data = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, data, FLOAT, 0, values.length);
        return add(name, DType.F32, shape, data);
    }

    /** Adds a tensor whose bytes are left unwritten: zeros, stored as a hole of a sparse file. */
    public SafetensorsWriter reserve(String name, DType dtype, long[] shape) {
        tensors.add(new Pending(name, dtype, shape.clone(), byteSize(name, dtype, shape), null));
        return this;
    }

    public void write(Path file) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Pending t : tensors) {
            ObjectNode entry = header.putObject(t.name);
            entry.put("dtype", t.dtype.name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape) shape.add(d);
            entry.putArray("data_offsets").add(offset).add(offset + t.bytes);
            offset += t.bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (int) ((8 + json.length + 7) / 8 * 8 - 8);
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(0);
            FileChannel channel = raf.getChannel();
            while (head.hasRemaining()) channel.write(head, head.position());
            long position = 8 + padded;
            for (Pending t : tensors) {
                if (t.data != null) {
                    ByteBuffer data = t.data.asByteBuffer();
                    for (long at = position; data.hasRemaining(); ) at += channel.write(data, at);
                }
                position += t.bytes;
            }
            raf.setLength(position);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static long byteSize(String name, DType dtype, long[] shape) {
        long elements = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(name + ": negative dimension");
            elements = Math.multiplyExact(elements, d);
        }
        return Math.multiplyExact(elements, (long) dtype.bytes());
    }
}
