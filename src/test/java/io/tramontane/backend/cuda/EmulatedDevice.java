package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.weights.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The pretend device memory and launches a host emulator runs (cuda-kernels/test/*_emulator.cpp): buffers at fake
 * addresses, 256-byte aligned as cuMemAlloc's, and launches in order, written in the input framing of
 * cuda-kernels/test/emulated_device.h. Each emulator's Java side is one of these and encodes its launches' parameters
 * in its own format.
 */
abstract class EmulatedDevice {
    private record Buffer(DeviceBuffer device, byte[] content) {}

    private record Launch(String kernel, LaunchConfig config, byte[] parameters) {}

    private final byte[] magic;
    private final List<Buffer> buffers = new ArrayList<>();
    private final List<Launch> launches = new ArrayList<>();
    private long next = 0x7000_0000L;

    /** For the emulator whose input starts with {@code magic} (8 ASCII characters). */
    protected EmulatedDevice(String magic) {
        this.magic = magic.getBytes(StandardCharsets.US_ASCII);
        if (this.magic.length != 8) throw new IllegalArgumentException("magic must be 8 characters: " + magic);
    }

    /** {@code bytes} of device memory, NaN-poisoned (every byte 0xff) until a kernel writes it. */
    final DeviceBuffer allocate(long bytes) {
        return add(bytes, null);
    }

    final DeviceBuffer bytes(byte[] content) {
        return add(content.length, content.clone());
    }

    final DeviceBuffer floats(float[] values) {
        ByteBuffer b = le(values.length * 4);
        b.asFloatBuffer().put(values);
        return add(values.length * 4L, b.array());
    }

    final DeviceBuffer ints(int[] values) {
        ByteBuffer b = le(values.length * 4);
        b.asIntBuffer().put(values);
        return add(values.length * 4L, b.array());
    }

    final DeviceBuffer longs(long[] values) {
        ByteBuffer b = le(values.length * 8);
        b.asLongBuffer().put(values);
        return add(values.length * 8L, b.array());
    }

    private DeviceBuffer add(long bytes, byte[] content) {
        DeviceBuffer b = new DeviceBuffer(next, bytes);
        next += (bytes + 511) / 256 * 256;  // 256-byte aligned, as cuMemAlloc's, with a gap
        buffers.add(new Buffer(b, content));
        return b;
    }

    /** Records a launch of {@code kernel}, its parameters already in the emulator's own format. */
    protected final void record(String kernel, LaunchConfig config, byte[] parameters) {
        launches.add(new Launch(kernel, config, parameters.clone()));
    }

    /**
     * Runs every recorded launch in order on {@code emulator} (throwing an AssertionError with its report when it
     * fails); the contents of {@code dumps} afterwards, as floats.
     */
    protected final List<float[]> execute(Path emulator, Path work, List<DeviceBuffer> dumps)
            throws IOException, InterruptedException {
        String name = emulator.getFileName().toString();
        Path input = work.resolve(name + ".in"), output = work.resolve(name + ".out");
        try (OutputStream out = Files.newOutputStream(input)) {
            write(out, dumps);
        }
        Process p = new ProcessBuilder(emulator.toString(), input.toString(), output.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("emulator failed: " + log);
        }
        ByteBuffer result = ByteBuffer.wrap(Files.readAllBytes(output)).order(ByteOrder.LITTLE_ENDIAN);
        List<float[]> values = new ArrayList<>();
        for (DeviceBuffer d : dumps) {
            float[] f = new float[Math.toIntExact(d.bytes() / 4)];
            result.asFloatBuffer().get(f);
            result.position(result.position() + f.length * 4);
            values.add(f);
        }
        return values;
    }

    // magic, buffers, launches (the shared head, then the emulator's parameters), dump ranges
    private void write(OutputStream out, List<DeviceBuffer> dumps) throws IOException {
        out.write(magic);
        out.write(le(4).putInt(buffers.size()).array());
        for (Buffer b : buffers) {
            out.write(le(17).putLong(b.device().address()).putLong(b.device().bytes())
                    .put((byte) (b.content() == null ? 0 : 1)).array());
            if (b.content() != null) out.write(b.content());
        }
        out.write(le(4).putInt(launches.size()).array());
        for (Launch l : launches) {
            byte[] name = l.kernel().getBytes(StandardCharsets.US_ASCII);
            out.write(le(2).putShort((short) name.length).array());
            out.write(name);
            LaunchConfig c = l.config();
            out.write(le(4 * 7).putInt(c.grid().x()).putInt(c.grid().y()).putInt(c.grid().z()).putInt(c.block().x())
                    .putInt(c.block().y()).putInt(c.block().z()).putInt(c.sharedBytes()).array());
            out.write(l.parameters());
        }
        out.write(le(4).putInt(dumps.size()).array());
        for (DeviceBuffer d : dumps) out.write(le(16).putLong(d.address()).putLong(d.bytes()).array());
    }

    /** A little-endian buffer of {@code bytes} bytes, as the emulators read their input. */
    /** {@code w}'s rows in its stored bytes, each padded with zeros to the format's 16-byte stride (as WeightUpload). */
    static byte[] padded(Tensor w, WeightFormat format) {
        int rowBytes = Math.toIntExact(format.stride(w.cols()) * format.bytes);
        byte[] out = new byte[Math.toIntExact(w.rows()) * rowBytes];
        for (int r = 0; r < w.rows(); r++) {
            MemorySegment.copy(w.rowBytes(r), 0, MemorySegment.ofArray(out), (long) r * rowBytes, w.cols() * format.bytes);
        }
        return out;
    }

    protected static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
