package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Stream;
import io.tramontane.nccl.NcclComm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * One rank's side of the group's collectives, enqueued on the backend's stream (no host wait): all-reduce in
 * place, and the column all-gather of the sharded output head. NCCL gathers equal-sized buffers, so parts are
 * padded to the widest rank's and unpadded into the whole by a kernel. Which rank has how many columns is asked
 * of the peers once per whole width (one small all-gather read back on the host) and cached; every rank meets
 * the same widths in the same order, so their exchanges line up.
 */
final class NcclCollective {
    private record Layout(ColumnLayout columns, DeviceBuffer offsets) {}

    private final NcclGroup group;
    private final NcclComm comm;
    private final CudaDriver driver;
    private final DeviceArena arena;
    private final ActivationPool activations;
    private final CollectiveKernels kernels;
    private final Map<Integer, Layout> layouts = new HashMap<>();
    private final Runnable beforeWait;

    /** @param beforeWait run before the host waits for the stream (the peers' column counts are read back once) */
    NcclCollective(NcclGroup group, int rank, CudaDriver driver, DeviceArena arena, ActivationPool activations,
                   CollectiveKernels kernels, Runnable beforeWait) {
        this.group = group;
        this.comm = group.comm(rank);
        this.driver = driver;
        this.arena = arena;
        this.activations = activations;
        this.kernels = kernels;
        this.beforeWait = beforeWait;
    }

    int rank() {
        return comm.rank();
    }

    int ranks() {
        return comm.ranks();
    }

    int device() {
        return comm.device();
    }

    void allReduceSum(CudaActivation x, Stream stream) {
        group.nccl().allReduceSum(comm, x.data(), stream);
    }

    /** whole [rows, total] = every rank's part [rows, cols(rank)], columns in rank order. */
    void allGatherColumns(CudaActivation part, CudaActivation whole, Stream stream) {
        Layout layout = layout(part.cols(), whole.cols(), stream);
        ColumnLayout columns = layout.columns();
        int rows = part.rows(), stride = columns.stride();
        if (whole.rows() != rows) throw new IllegalArgumentException("all-gather of " + rows + " rows into " + whole.rows());
        CudaActivation padded = part;
        if (part.cols() != stride) {
            padded = activations.allocate(rows, stride);
            kernels.pad(stream, part.data(), padded.data(), rows, part.cols(), stride);
        }
        CudaActivation gathered = activations.allocate(ranks() * rows, stride);
        group.nccl().allGather(comm, padded.data(), gathered.data(), stream);
        kernels.unpad(stream, gathered.data(), whole.data(), columns, layout.offsets(), rows);
        Reference.reachabilityFence(padded);  // back to the pool only once the work is enqueued
        Reference.reachabilityFence(gathered);
    }

    /** The column layout for wholes {@code total} wide, asked of the peers the first time. */
    private Layout layout(int cols, int total, Stream stream) {
        Layout known = layouts.get(total);
        if (known == null) {
            beforeWait.run();  // the synchronous copies below cannot be part of a captured step
            int[] parts = exchange(cols, stream);
            ColumnLayout columns = ColumnLayout.of(parts);
            if (columns.total() != total) {
                throw new IllegalArgumentException("all-gather into " + total + " columns, but the ranks hold "
                        + Arrays.toString(parts) + " = " + columns.total());
            }
            DeviceBuffer offsets = arena.allocate((ranks() + 1L) * Integer.BYTES);
            try (Arena host = Arena.ofConfined()) {
                driver.copyToDevice(offsets, host.allocateFrom(JAVA_INT, columns.offsets()));
            }
            known = new Layout(columns, offsets);
            layouts.put(total, known);
        }
        if (known.columns().cols(rank()) != cols) {
            throw new IllegalArgumentException("rank " + rank() + " all-gathers " + cols + " columns into " + total
                    + ", earlier " + known.columns().cols(rank()));
        }
        return known;
    }

    /** Every rank's {@code value}, in rank order: an int all-gather read back on the host. */
    private int[] exchange(int value, Stream stream) {
        DeviceBuffer sent = arena.allocate(Integer.BYTES), received = arena.allocate((long) ranks() * Integer.BYTES);
        try (Arena host = Arena.ofConfined()) {
            driver.copyToDevice(sent, host.allocateFrom(JAVA_INT, value));
            group.nccl().allGatherInts(comm, sent, received, stream);
            MemorySegment values = host.allocate(JAVA_INT, ranks());
            driver.copyToHost(values, received);  // ordered after the all-gather: the legacy stream waits for ours
            return values.toArray(JAVA_INT);
        }
    }

    void close() {
        group.release(comm);
    }
}
