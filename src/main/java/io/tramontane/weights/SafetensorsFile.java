package io.tramontane.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * One safetensors file mapped read-only into memory (no copy, no 2 GB limit): its validated header and
 * zero-copy {@link Tensor} views of its data. The mapping lives as long as the arena that made it.
 */
public final class SafetensorsFile {
    private final Path path;
    private final MemorySegment content;
    private final SafetensorsHeader header;
    private final Map<String, SafetensorsHeader.Entry> byName;

    private SafetensorsFile(Path path, MemorySegment content, SafetensorsHeader header) {
        this.path = path;
        this.content = content;
        this.header = header;
        this.byName = new HashMap<>();
        for (SafetensorsHeader.Entry e : header.entries()) byName.put(e.name(), e);
    }

    /** Maps {@code path} into {@code arena} and validates its header; reads no tensor data. */
    public static SafetensorsFile open(Path path, Arena arena) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment content = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return of(path, content);
        } catch (IOException e) {
            throw new CheckpointException(path, null, "cannot map: " + e);
        }
    }

    /** A file whose whole content is already in memory ({@code path} only names it in errors). */
    public static SafetensorsFile of(Path path, MemorySegment content) {
        return new SafetensorsFile(path, content, SafetensorsHeader.parse(path, content));
    }

    public Path path() {
        return path;
    }

    public SafetensorsHeader header() {
        return header;
    }

    /** The whole mapped file (header and data). */
    public MemorySegment content() {
        return content;
    }

    public Collection<SafetensorsHeader.Entry> entries() {
        return header.entries();
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The header entry of {@code name}, or null. */
    public SafetensorsHeader.Entry entry(String name) {
        return byName.get(name);
    }

    /** A view of tensor {@code name}'s bytes. */
    public Tensor tensor(String name) {
        SafetensorsHeader.Entry e = byName.get(name);
        if (e == null) throw CheckpointException.tensor(path, name, "not in this file");
        MemorySegment data = content.asSlice(header.dataStart() + e.begin(), e.byteSize());
        return Tensor.of(name, e.dtype(), e.shape(), data);
    }
}
