package io.tramontane.nccl;

import io.tramontane.cuda.UpcallStubs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A stand-in for libnccl.so.2 made of FFM upcall stubs, so the bindings are exercised through real native calls
 * on a machine without NCCL. A method named like a {@link NcclSymbol#symbol()} with the descriptor's Java type
 * implements it; the rest return ncclInvalidUsage. Upcalls must not throw (the JVM would abort), so they record.
 */
final class FakeNccl implements AutoCloseable {
    static final int INVALID_ARGUMENT = 4, INVALID_USAGE = 5;

    final Arena arena = Arena.ofShared();
    int version = 23007;
    int allReduceResult;
    /** The last ncclAllReduce / ncclAllGather: its arguments. */
    final Map<String, Object> lastCall = new HashMap<>();
    private final MemorySegment lastErrorText = arena.allocateFrom("peer rank 1 unreachable");
    private final MemorySegment invalidArgumentText = arena.allocateFrom("invalid argument");

    SymbolLookup lookup(Set<String> hidden) {
        Map<String, MemorySegment> stubs = new HashMap<>();
        for (NcclSymbol function : NcclSymbol.values()) {
            if (!hidden.contains(function.symbol())) stubs.put(function.symbol(), stub(function));
        }
        return name -> Optional.ofNullable(stubs.get(name));
    }

    Nccl nccl() {
        return Nccl.bind(lookup(Set.of()), "fake-libnccl");
    }

    private MemorySegment stub(NcclSymbol function) {
        return UpcallStubs.stub(MethodHandles.lookup(), this, function.symbol(), function.descriptor(), INVALID_USAGE, arena);
    }

    int ncclGetVersion(MemorySegment out) {
        out.reinterpret(4).set(ValueLayout.JAVA_INT, 0, version);
        return 0;
    }

    MemorySegment ncclGetErrorString(int result) {
        return result == INVALID_ARGUMENT ? invalidArgumentText : MemorySegment.NULL;
    }

    MemorySegment ncclGetLastError(MemorySegment comm) {
        return lastErrorText;
    }

    /** Communicator handles 0x1000 + device. */
    int ncclCommInitAll(MemorySegment comms, int ndev, MemorySegment devlist) {
        MemorySegment out = comms.reinterpret(8L * ndev), devices = devlist.reinterpret(4L * ndev);
        for (int i = 0; i < ndev; i++) {
            out.setAtIndex(ValueLayout.ADDRESS, i, MemorySegment.ofAddress(0x1000 + devices.getAtIndex(ValueLayout.JAVA_INT, i)));
        }
        return 0;
    }

    int ncclCommCount(MemorySegment comm, MemorySegment count) {
        count.reinterpret(4).set(ValueLayout.JAVA_INT, 0, 2);
        return 0;
    }

    int ncclAllReduce(MemorySegment send, MemorySegment recv, long count, int type, int op, MemorySegment comm,
                      MemorySegment stream) {
        lastCall.putAll(Map.of("call", "allReduce", "send", send.address(), "recv", recv.address(), "count", count,
                "type", type, "op", op, "comm", comm.address(), "stream", stream.address()));
        return allReduceResult;
    }

    int ncclAllGather(MemorySegment send, MemorySegment recv, long count, int type, MemorySegment comm, MemorySegment stream) {
        lastCall.putAll(Map.of("call", "allGather", "send", send.address(), "recv", recv.address(), "count", count,
                "type", type, "comm", comm.address(), "stream", stream.address()));
        return 0;
    }

    @Override
    public void close() {
        arena.close();
    }
}
