package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A stand-in for libcublasLt made of FFM upcall stubs (like {@link FakeDriver} for libcuda): the bindings and
 * {@link CublasLtGemm} run through real native calls and every argument that reaches the "library" is recorded.
 * A method named like a {@link CublasLtSymbol#apiName()} implements it; the rest answer NOT_SUPPORTED.
 */
final class FakeCublasLt implements AutoCloseable {
    static final int NOT_SUPPORTED = 15, INVALID_VALUE = 7;
    private static final Map<Integer, String[]> STATUSES = Map.of(
            NOT_SUPPORTED, new String[] {"CUBLAS_STATUS_NOT_SUPPORTED", "the requested functionality is not supported"},
            INVALID_VALUE, new String[] {"CUBLAS_STATUS_INVALID_VALUE", "an invalid value was used as an argument"});

    final Arena arena = Arena.ofShared();
    private long nextHandle = 0x1000;
    /** Status answers: heuristic call result, heuristic results returned, their state, matmul result. */
    int heuristicStatus, heuristicCount = 1, heuristicState, matmulStatus;
    long heuristicWorkspace = 4096;

    final List<int[]> descriptors = new ArrayList<>();  // compute type, scale type
    final Map<Integer, Long> descAttributes = new LinkedHashMap<>();  // attribute -> value (int or pointer)
    final List<List<Long>> layouts = new ArrayList<>();  // type, rows, cols, ld
    final Map<Integer, Long> preferences = new LinkedHashMap<>();
    final List<Long> destroyedLayouts = new ArrayList<>(), destroyedDescriptors = new ArrayList<>();
    int destroyedPreferences, requestedAlgorithms;
    /** The last cublasLtMatmul: name -> value. */
    final Map<String, Object> matmul = new HashMap<>();

    SymbolLookup lookup(Set<String> hidden) {
        Map<String, MemorySegment> stubs = new HashMap<>();
        for (CublasLtSymbol function : CublasLtSymbol.values()) {
            if (!hidden.contains(function.apiName())) stubs.put(function.apiName(), stub(function));
        }
        return name -> Optional.ofNullable(stubs.get(name));
    }

    CublasLt library() {
        return CublasLt.bind(lookup(Set.of()));
    }

    private MemorySegment stub(CublasLtSymbol function) {
        return UpcallStubs.stub(MethodHandles.lookup(), this, function.apiName(), function.descriptor(), NOT_SUPPORTED, arena);
    }

    @Override
    public void close() {
        arena.close();
    }

    // ---- the implemented functions

    MemorySegment cublasLtGetStatusName(int status) {
        return text(status, 0);
    }

    MemorySegment cublasLtGetStatusString(int status) {
        return text(status, 1);
    }

    private MemorySegment text(int status, int which) {
        String[] texts = STATUSES.get(status);
        return texts == null ? MemorySegment.NULL : arena.allocateFrom(texts[which]);
    }

    long cublasLtGetVersion() {
        return 130100;
    }

    int cublasLtCreate(MemorySegment out) {
        return handle(out);
    }

    int cublasLtDestroy(MemorySegment handle) {
        return 0;
    }

    int cublasLtMatmulDescCreate(MemorySegment out, int computeType, int scaleType) {
        descriptors.add(new int[] {computeType, scaleType});
        return handle(out);
    }

    int cublasLtMatmulDescDestroy(MemorySegment desc) {
        destroyedDescriptors.add(desc.address());
        return 0;
    }

    int cublasLtMatmulDescSetAttribute(MemorySegment desc, int attribute, MemorySegment buffer, long size) {
        MemorySegment value = buffer.reinterpret(size);
        descAttributes.put(attribute, size == 4 ? value.get(JAVA_INT, 0) : size == 8 ? value.get(JAVA_LONG, 0) : -1L);
        return 0;
    }

    int cublasLtMatrixLayoutCreate(MemorySegment out, int type, long rows, long cols, long ld) {
        layouts.add(List.of((long) type, rows, cols, ld));
        return handle(out);
    }

    int cublasLtMatrixLayoutDestroy(MemorySegment layout) {
        destroyedLayouts.add(layout.address());
        return 0;
    }

    int cublasLtMatmulPreferenceCreate(MemorySegment out) {
        return handle(out);
    }

    int cublasLtMatmulPreferenceDestroy(MemorySegment preference) {
        destroyedPreferences++;
        return 0;
    }

    int cublasLtMatmulPreferenceSetAttribute(MemorySegment preference, int attribute, MemorySegment buffer, long size) {
        MemorySegment value = buffer.reinterpret(size);
        preferences.put(attribute, size == 4 ? value.get(JAVA_INT, 0) : size == 8 ? value.get(JAVA_LONG, 0) : -1L);
        return 0;
    }

    int cublasLtMatmulAlgoGetHeuristic(MemorySegment handle, MemorySegment desc, MemorySegment a, MemorySegment b,
                                       MemorySegment c, MemorySegment d, MemorySegment preference, int requested,
                                       MemorySegment results, MemorySegment returned) {
        requestedAlgorithms = requested;
        if (heuristicStatus != 0) return heuristicStatus;
        int count = Math.min(requested, heuristicCount);
        MemorySegment all = results.reinterpret(CublasLt.HEURISTIC_RESULT.byteSize() * requested);
        for (int i = 0; i < count; i++) {
            long at = i * CublasLt.HEURISTIC_RESULT.byteSize();
            all.set(JAVA_LONG, at, 0xA160 + i);  // first word of the opaque algo
            all.set(JAVA_LONG, at + 64, heuristicWorkspace);
            all.set(JAVA_INT, at + 72, heuristicState);
            all.set(JAVA_FLOAT, at + 76, 1.5f);
        }
        returned.reinterpret(4).set(JAVA_INT, 0, count);
        return 0;
    }

    int cublasLtMatmul(MemorySegment handle, MemorySegment desc, MemorySegment alpha, MemorySegment a, MemorySegment aDesc,
                       MemorySegment b, MemorySegment bDesc, MemorySegment beta, MemorySegment c, MemorySegment cDesc,
                       MemorySegment d, MemorySegment dDesc, MemorySegment algo, MemorySegment workspace,
                       long workspaceBytes, MemorySegment stream) {
        matmul.put("alpha", alpha.reinterpret(4).get(JAVA_FLOAT, 0));
        matmul.put("beta", beta.reinterpret(4).get(JAVA_FLOAT, 0));
        matmul.put("pointers", List.of(a.address(), b.address(), c.address(), d.address()));
        matmul.put("layouts", List.of(aDesc.address(), bDesc.address(), cDesc.address(), dDesc.address()));
        matmul.put("algo", algo.reinterpret(8).get(JAVA_LONG, 0));
        matmul.put("workspace", List.of(workspace.address(), workspaceBytes));
        matmul.put("stream", stream.address());
        return matmulStatus;
    }

    private int handle(MemorySegment out) {
        out.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, MemorySegment.ofAddress(nextHandle));
        nextHandle += 0x100;
        return 0;
    }
}
