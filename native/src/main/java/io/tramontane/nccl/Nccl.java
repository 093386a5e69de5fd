package io.tramontane.nccl;

import static io.tramontane.nccl.NcclSymbol.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.PythonSitePackages;
import io.tramontane.cuda.StatusCalls;
import io.tramontane.cuda.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * NCCL through java.lang.foreign: one checked Java method per {@link NcclSymbol}. A result other than ncclSuccess
 * becomes an {@link NcclException} naming the call, the result and NCCL's last-error text. Obtain one from
 * {@link #probe()}. Collectives are enqueued on a stream and return at once; like NCCL itself, every rank must
 * call the same collectives in the same order, and a rank driven by its own thread needs no group calls.
 */
public final class Nccl {
    private static final int SUCCESS = 0, IN_PROGRESS = 7;
    private static final long FLOAT_BYTES = Float.BYTES;

    private final MethodHandle[] handles = new MethodHandle[NcclSymbol.values().length];
    private final String library;

    private Nccl(SymbolLookup lookup, String library) {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        for (NcclSymbol function : NcclSymbol.values()) {
            MemorySegment address = lookup.find(function.symbol()).orElseThrow(
                    () -> new IllegalStateException(library + " does not export " + function.symbol() + " (NCCL older than 2.18?)"));
            handles[function.ordinal()] = linker.downcallHandle(address, function.descriptor());
        }
    }

    /** Binds every {@link NcclSymbol} in {@code lookup}; IllegalStateException names a missing one. */
    static Nccl bind(SymbolLookup lookup, String library) {
        return new Nccl(lookup, library);
    }

    private static final class Once {
        static final NcclProbe PROBE = NcclProbe.probe(NcclLibrary.first(System.getenv(NcclLibrary.OVERRIDE)),
                () -> NcclLibrary.wheels(System.getenv(NcclLibrary.OVERRIDE), PythonSitePackages.find()));
    }

    /** The (cached) probe of libnccl.so.2; never throws. */
    public static NcclProbe probe() {
        return Once.PROBE;
    }

    /** The bound library; IllegalStateException with the probe's reason when there is none. */
    public static Nccl load() {
        return probe().nccl().orElseThrow(() -> new IllegalStateException("NCCL unavailable: " + probe().reason()));
    }

    /** Where this binding was loaded from. */
    public String library() {
        return library;
    }

    /** NCCL's version code: 10000 * major + 100 * minor + patch for 2.9 and later (e.g. 23007 for 2.30.7). */
    public int version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check(GET_VERSION, null, () -> (int) handle(GET_VERSION).invokeExact(out));
            return out.get(JAVA_INT, 0);
        }
    }

    /** "2.30.7" for a {@link #version()} code. */
    public static String versionText(int code) {
        return code / 10000 + "." + code / 100 % 100 + "." + code % 100;
    }

    /**
     * One communicator per device of {@code devices}, rank i on devices[i], all in this process (ncclCommInitAll).
     * The ranks then run from their own threads.
     */
    public List<NcclComm> initAll(int[] devices) {
        if (devices.length < 1) throw new IllegalArgumentException("NCCL needs at least one device");
        for (int i = 0; i < devices.length; i++) {
            if (devices[i] < 0) throw new IllegalArgumentException("device ordinal " + devices[i] + " at rank " + i);
            for (int j = 0; j < i; j++) {
                if (devices[j] == devices[i]) throw new IllegalArgumentException("device " + devices[i] + " given twice (NCCL needs one rank per device)");
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comms = arena.allocate(ADDRESS, devices.length);
            MemorySegment list = arena.allocateFrom(JAVA_INT, devices);
            check(COMM_INIT_ALL, null, () -> (int) handle(COMM_INIT_ALL).invokeExact(comms, devices.length, list));
            List<NcclComm> result = new ArrayList<>();
            for (int i = 0; i < devices.length; i++) {
                result.add(new NcclComm(comms.getAtIndex(ADDRESS, i), i, devices.length, devices[i]));
            }
            return result;
        }
    }

    /** Waits for the communicator's outstanding work and frees it. */
    public void destroy(NcclComm comm) {
        check(COMM_DESTROY, comm, () -> (int) handle(COMM_DESTROY).invokeExact(comm.handle()));
    }

    /** Stops the communicator's outstanding collectives (a peer failed) and frees it; safe from another thread. */
    public void abort(NcclComm comm) {
        check(COMM_ABORT, comm, () -> (int) handle(COMM_ABORT).invokeExact(comm.handle()));
    }

    /** How many ranks the communicator has, as NCCL sees it. */
    public int count(NcclComm comm) {
        return outInt(COMM_COUNT, comm);
    }

    /** This communicator's rank, as NCCL sees it. */
    public int userRank(NcclComm comm) {
        return outInt(COMM_USER_RANK, comm);
    }

    /** Throws the error an asynchronous collective of {@code comm} ran into, if any (ncclCommGetAsyncError). */
    public void checkAsyncError(NcclComm comm) {
        int asyncResult = outInt(COMM_GET_ASYNC_ERROR, comm);
        if (asyncResult != SUCCESS && asyncResult != IN_PROGRESS) {
            throw new NcclException("ncclCommGetAsyncError", asyncResult, errorString(asyncResult), lastError(comm));
        }
    }

    /** In place: {@code buffer} (FP32) summed over all ranks, on every rank. */
    public void allReduceSum(NcclComm comm, DeviceBuffer buffer, Stream stream) {
        long count = floats(buffer, "all-reduce buffer");
        MemorySegment data = MemorySegment.ofAddress(buffer.address());
        check(ALL_REDUCE, comm, () -> (int) handle(ALL_REDUCE).invokeExact(data, data, count, FLOAT32, SUM,
                comm.handle(), stream.handle()));
    }

    /** {@code received} = every rank's {@code sent} (FP32, the same size on every rank) in rank order. */
    public void allGather(NcclComm comm, DeviceBuffer sent, DeviceBuffer received, Stream stream) {
        long count = floats(sent, "all-gather send buffer");
        received.requireBytes(sent.bytes() * comm.ranks(), "all-gather receive buffer of " + comm.ranks() + " ranks");
        check(ALL_GATHER, comm, () -> (int) handle(ALL_GATHER).invokeExact(MemorySegment.ofAddress(sent.address()),
                MemorySegment.ofAddress(received.address()), count, FLOAT32, comm.handle(), stream.handle()));
    }

    /** {@code received} = every rank's {@code sent} (C ints, the same count on every rank) in rank order. */
    public void allGatherInts(NcclComm comm, DeviceBuffer sent, DeviceBuffer received, Stream stream) {
        long count = floats(sent, "all-gather send buffer");  // int32 has the size of a float
        received.requireBytes(sent.bytes() * comm.ranks(), "all-gather receive buffer of " + comm.ranks() + " ranks");
        check(ALL_GATHER, comm, () -> (int) handle(ALL_GATHER).invokeExact(MemorySegment.ofAddress(sent.address()),
                MemorySegment.ofAddress(received.address()), count, INT32, comm.handle(), stream.handle()));
    }

    public void groupStart() {
        check(GROUP_START, null, () -> (int) handle(GROUP_START).invokeExact());
    }

    public void groupEnd() {
        check(GROUP_END, null, () -> (int) handle(GROUP_END).invokeExact());
    }

    /** ncclGetErrorString, or null when NCCL returns none. Never throws. */
    public String errorString(int result) {
        try {
            return StatusCalls.text((MemorySegment) handle(GET_ERROR_STRING).invokeExact(result));
        } catch (Throwable t) {
            return null;
        }
    }

    /** ncclGetLastError of {@code comm} (null: the last error of any communicator), or null. Never throws. */
    public String lastError(NcclComm comm) {
        try {
            MemorySegment handle = comm == null ? MemorySegment.NULL : comm.handle();
            return StatusCalls.text((MemorySegment) handle(GET_LAST_ERROR).invokeExact(handle));
        } catch (Throwable t) {
            return null;
        }
    }

    private static long floats(DeviceBuffer buffer, String what) {
        if (buffer.bytes() == 0 || buffer.bytes() % FLOAT_BYTES != 0 || buffer.address() % FLOAT_BYTES != 0) {
            throw new IllegalArgumentException(what + " must be a non-empty, 4-byte aligned range of 32-bit elements: " + buffer);
        }
        return buffer.bytes() / FLOAT_BYTES;
    }

    // ---- calling convention (StatusCalls)

    private MethodHandle handle(NcclSymbol function) {
        return handles[function.ordinal()];
    }

    private void check(NcclSymbol function, NcclComm comm, StatusCalls.Call call) {
        int result = StatusCalls.invoke(call);
        if (result != SUCCESS) throw new NcclException(function.symbol(), result, errorString(result), lastError(comm));
    }

    private int outInt(NcclSymbol function, NcclComm comm) {
        return StatusCalls.outInt(c -> check(function, comm, c), out -> (int) handle(function).invokeExact(comm.handle(), out));
    }
}
