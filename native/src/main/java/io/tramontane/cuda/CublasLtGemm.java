package io.tramontane.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The engine's linear, y[m, n] = alpha * x[m, k] w[n, k]^T (row-major activations; weights one row per output
 * feature, rows {@code weightStride} elements apart), planned once as a cublasLtMatmul over fixed device buffers and
 * run as often as needed: the GPU check's oracle and speed baseline.
 *
 * <p>In cuBLASLt's column-major terms the row-major y[m, n] is D = [n, m] with ld n; w is A stored [k, n] with ld
 * weightStride and used transposed; x is B stored [k, m] with ld k, not transposed: D = A^T B, the "TN" form FP8
 * requires (on Hopper FP8 takes no other). D is FP32, like the engine's activations (C = D, beta = 0). FP8 inputs
 * also need 16-byte aligned matrices with leading dimensions that are multiples of 16, and take their per-tensor
 * scales from device memory (A and B scale pointers); the result is alpha * aScale * bScale * (A^T B).
 */
public final class CublasLtGemm implements AutoCloseable {
    /** FP8 matrices: pointers and leading dimensions in multiples of 16 (cublasLtMatmul's FP8 requirements). */
    static final int FP8_ALIGNMENT = 16;
    /** cuBLASLt's default assumption about pointer alignment, lowered to what the buffers actually have. */
    static final int MAX_ALIGNMENT = 256;

    /**
     * The problem: {@code inputs} is the type of both w and x (R_16BF or R_8F_E4M3; R_32F is allowed too).
     */
    public record Shape(CudaDataType inputs, int m, int n, int k, long weightStride) {
        public Shape {
            if (m <= 0 || n <= 0 || k <= 0) {
                throw new IllegalArgumentException("GEMM shape must be positive: m=" + m + ", n=" + n + ", k=" + k);
            }
            if (weightStride < k) throw new IllegalArgumentException("weight stride " + weightStride + " < k=" + k);
            if (inputs == CudaDataType.R_8F_E4M3 && (k % FP8_ALIGNMENT != 0 || weightStride % FP8_ALIGNMENT != 0)) {
                throw new IllegalArgumentException("FP8 cublasLtMatmul needs k and the weight stride to be multiples of "
                        + FP8_ALIGNMENT + ": k=" + k + ", weight stride=" + weightStride);
            }
        }

        /** Dense rows (stride k). */
        public Shape(CudaDataType inputs, int m, int n, int k) {
            this(inputs, m, n, k, k);
        }

        public double flops() {
            return 2.0 * m * n * k;
        }

        boolean fp8() {
            return inputs == CudaDataType.R_8F_E4M3;
        }

        @Override
        public String toString() {
            return m + "x" + n + "x" + k;
        }
    }

    /** A column-major matrix layout to create: rows x cols elements of {@code type}, columns {@code ld} apart. */
    record Layout(CudaDataType type, long rows, long cols, long ld) {}

    /** A = w: [k, n], ld = weight stride (used transposed). */
    static Layout weightLayout(Shape s) {
        return new Layout(s.inputs(), s.k(), s.n(), s.weightStride());
    }

    /** B = x: [k, m], ld = k. */
    static Layout inputLayout(Shape s) {
        return new Layout(s.inputs(), s.k(), s.m(), s.k());
    }

    /** C = D = y: [n, m] FP32, ld = n. */
    static Layout outputLayout(Shape s) {
        return new Layout(CudaDataType.R_32F, s.n(), s.m(), s.n());
    }

    /**
     * The device buffers of one planned GEMM. The scales are one float each, required for FP8 inputs and absent
     * (null) otherwise; the workspace may be null (then only algorithms that need none are chosen).
     */
    public record Operands(DeviceBuffer weights, DeviceBuffer input, DeviceBuffer output, DeviceBuffer weightScale,
                           DeviceBuffer inputScale, DeviceBuffer workspace) {}

    private final CublasLt lt;
    private final CublasLtHandle handle;
    private final Shape shape;
    private final Operands operands;
    private final Arena arena = Arena.ofShared();
    private MemorySegment desc, weightLayout, inputLayout, outputLayout;
    private MemorySegment algo;
    private long algoWorkspaceBytes;

    private CublasLtGemm(CublasLt lt, CublasLtHandle handle, Shape shape, Operands operands) {
        this.lt = lt;
        this.handle = handle;
        this.shape = shape;
        this.operands = operands;
    }

    /**
     * Checks the operands against the shape, builds the descriptor and layouts and asks cuBLASLt's heuristic for its
     * first choice. IllegalArgumentException names a bad operand; a CublasLtException a refused call; an
     * UnsupportedOperationException says cuBLASLt has no algorithm for the problem.
     */
    public static CublasLtGemm plan(CublasLt lt, CublasLtHandle handle, Shape shape, Operands operands) {
        requireOperands(shape, operands);
        CublasLtGemm gemm = new CublasLtGemm(lt, handle, shape, operands);
        try {
            gemm.build();
            return gemm;
        } catch (RuntimeException e) {
            gemm.close();
            throw e;
        }
    }

    private void build() {
        desc = lt.matmulDescCreate(CublasLt.COMPUTE_32F, CudaDataType.R_32F);
        lt.matmulDescSetInt(desc, CublasLt.MATMUL_DESC_TRANSA, CublasLt.OP_T);
        lt.matmulDescSetInt(desc, CublasLt.MATMUL_DESC_TRANSB, CublasLt.OP_N);
        if (shape.fp8()) {
            lt.matmulDescSetPointer(desc, CublasLt.MATMUL_DESC_A_SCALE_POINTER, operands.weightScale().address());
            lt.matmulDescSetPointer(desc, CublasLt.MATMUL_DESC_B_SCALE_POINTER, operands.inputScale().address());
        }
        weightLayout = create(weightLayout(shape));
        inputLayout = create(inputLayout(shape));
        outputLayout = create(outputLayout(shape));

        MemorySegment preference = lt.preferenceCreate();
        try {
            long workspaceBytes = operands.workspace() == null ? 0 : operands.workspace().bytes();
            lt.preferenceSetLong(preference, CublasLt.MATMUL_PREF_MAX_WORKSPACE_BYTES, workspaceBytes);
            lt.preferenceSetInt(preference, CublasLt.MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignment(operands.weights()));
            lt.preferenceSetInt(preference, CublasLt.MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignment(operands.input()));
            lt.preferenceSetInt(preference, CublasLt.MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignment(operands.output()));
            lt.preferenceSetInt(preference, CublasLt.MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignment(operands.output()));
            List<CublasLt.Heuristic> heuristics = lt.algoGetHeuristic(handle, desc, weightLayout, inputLayout,
                    outputLayout, outputLayout, preference, 1, arena);
            if (heuristics.isEmpty()) {
                throw new UnsupportedOperationException("cuBLASLt has no algorithm for " + shape.inputs() + " " + shape);
            }
            algo = heuristics.getFirst().algo();
            algoWorkspaceBytes = heuristics.getFirst().workspaceBytes();
        } finally {
            lt.preferenceDestroy(preference);
        }
    }

    private MemorySegment create(Layout layout) {
        return lt.matrixLayoutCreate(layout.type(), layout.rows(), layout.cols(), layout.ld());
    }

    /** Enqueues y = alpha * x w^T (times the FP8 scales) on {@code stream}. */
    public void run(Stream stream, float alpha) {
        if (algo == null) throw new IllegalStateException("cuBLASLt GEMM is closed");
        if (!Float.isFinite(alpha)) throw new IllegalArgumentException("alpha must be finite: " + alpha);
        long workspace = operands.workspace() == null ? 0 : operands.workspace().address();
        long workspaceBytes = operands.workspace() == null ? 0 : operands.workspace().bytes();
        long y = operands.output().address();
        lt.matmul(handle, desc, alpha, operands.weights().address(), weightLayout, operands.input().address(),
                inputLayout, 0f, y, outputLayout, y, outputLayout, algo, workspace, workspaceBytes, stream);
    }

    public Shape shape() {
        return shape;
    }

    /** The workspace the chosen algorithm needs (at most the workspace given). */
    public long algorithmWorkspaceBytes() {
        return algoWorkspaceBytes;
    }

    /** Destroys the layouts and the descriptor; idempotent. */
    @Override
    public void close() {
        algo = null;
        for (MemorySegment layout : new MemorySegment[] {weightLayout, inputLayout, outputLayout}) {
            if (layout != null) lt.matrixLayoutDestroy(layout);
        }
        weightLayout = inputLayout = outputLayout = null;
        if (desc != null) lt.matmulDescDestroy(desc);
        desc = null;
        if (arena.scope().isAlive()) arena.close();
    }

    /** The largest power of two (at most 256) that divides the buffer's address: what cuBLASLt may assume. */
    static int alignment(DeviceBuffer buffer) {
        return (int) Math.min(MAX_ALIGNMENT, Long.lowestOneBit(buffer.address()));
    }

    static void requireOperands(Shape s, Operands o) {
        int bytes = s.inputs().bytes;
        requireAtLeast(o.weights(), ((long) (s.n() - 1) * s.weightStride() + s.k()) * bytes, "weights");
        requireAtLeast(o.input(), (long) s.m() * s.k() * bytes, "input");
        requireAtLeast(o.output(), (long) s.m() * s.n() * Float.BYTES, "output");
        if (s.fp8()) {
            requireAtLeast(o.weightScale(), Float.BYTES, "weight scale");
            requireAtLeast(o.inputScale(), Float.BYTES, "input scale");
            for (DeviceBuffer b : new DeviceBuffer[] {o.weights(), o.input(), o.output()}) {
                if (alignment(b) < FP8_ALIGNMENT) {
                    throw new IllegalArgumentException("FP8 cublasLtMatmul needs " + FP8_ALIGNMENT
                            + "-byte aligned matrices: " + b);
                }
            }
        } else if (o.weightScale() != null || o.inputScale() != null) {
            throw new IllegalArgumentException("per-tensor scale pointers are for FP8 inputs, not " + s.inputs()
                    + ": fold the scales into alpha");
        }
    }

    private static void requireAtLeast(DeviceBuffer buffer, long bytes, String what) {
        if (buffer == null) throw new IllegalArgumentException("GEMM " + what + " buffer is missing");
        if (buffer.bytes() < bytes) {
            throw new IllegalArgumentException("GEMM " + what + " has " + buffer.bytes() + " bytes, expected at least " + bytes);
        }
    }
}
