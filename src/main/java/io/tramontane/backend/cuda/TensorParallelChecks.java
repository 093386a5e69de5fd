package io.tramontane.backend.cuda;

import io.tramontane.backend.Activation;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.cuda.Cuda;
import io.tramontane.cuda.Stream;
import io.tramontane.engine.GoldenChecks;
import io.tramontane.engine.ModelFactory;
import io.tramontane.nccl.Nccl;
import io.tramontane.nccl.NcclProbe;
import io.tramontane.weights.Progress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The GPU checks of tensor parallelism through NCCL: on any machine with NCCL, a one-rank communicator carries the
 * backend's all-reduce and all-gather (exact: one rank's sum is its input); with two or more devices, every golden
 * case runs split over two ranks at the single-rank tolerances. What cannot run here is listed as skipped, with why.
 */
public final class TensorParallelChecks {
    static final int RANKS = 2;

    private TensorParallelChecks() {}

    /** @param golden the golden cases' directory, or null */
    public static List<CheckResult> all(Path golden) {
        NcclProbe probe = Nccl.probe();
        if (!probe.available()) return List.of(CheckResult.skipped("nccl", "tensor parallelism", probe.reason()));
        List<CheckResult> results = new ArrayList<>(oneRank(KernelChecks.seed(), probe));
        int devices = Cuda.driver().deviceCount();
        if (devices < RANKS) {
            results.add(CheckResult.skipped("golden tp" + RANKS, "all cases", devices + " CUDA device(s), " + RANKS + " needed"));
        } else if (golden == null) {
            results.add(CheckResult.skipped("golden tp" + RANKS, "all cases", "no --shared DIR"));
        } else {
            results.addAll(GoldenChecks.run(golden, GoldenChecks.CASES, (weights, options) ->
                    ModelFactory.cuda(weights, options.withTensorParallel(RANKS), KvCacheDtype.F32, false, Progress.silent())).stream()
                    .map(r -> r.named(r.check().replace("golden", "golden tp" + RANKS)))
                    .toList());
        }
        return results;
    }

    /** All-reduce and all-gather of a one-rank group on device 0, through the backend's NCCL path. */
    static List<CheckResult> oneRank(long seed, NcclProbe probe) {
        String version = "NCCL " + Nccl.versionText(probe.version());
        NcclGroup group = NcclGroup.create(1);
        try (CudaBackend backend = CudaBackend.openRank(CudaBackend.Options.defaults(), group, 0)) {
            SplittableRandom random = new SplittableRandom(seed);
            return List.of(
                    exact("nccl allReduceSum", "5x1000", seed, backend, 5, 1000, random,
                            (x, out) -> { backend.allReduceSum(x); return x; }, version),
                    exact("nccl allGatherColumns", "3x1001", seed, backend, 3, 1001, random,
                            (x, out) -> { backend.allGatherColumns(x, out); return out; }, version),
                    padColumns(seed, backend, random),
                    unpadColumns(seed, backend, random));
        } finally {
            group.abort();  // a no-op once the backend released its communicator
        }
    }

    /** The send side of an uneven all-gather: [3, 10] into [3, 13]; the 3 pad columns stay untouched (poisoned). */
    static CheckResult padColumns(long seed, CudaBackend backend, SplittableRandom random) {
        int rows = 3, cols = 10, stride = 13;
        return KernelChecks.attempt("pad_columns_f32", rows + "x" + cols + " to " + stride, seed, () -> {
            float[] values = RandomTensors.floats(random, rows * cols, 1);
            Activation x = backend.allocate(rows, cols), out = backend.allocate(rows, stride);
            backend.write(x, values);
            backend.poison(out);
            Runnable op = () -> backend.columnMoves().pad(Stream.DEFAULT, CudaActivation.of(x).data(),
                    CudaActivation.of(out).data(), rows, cols, stride);
            op.run();
            float[] padded = BackendChecks.read(backend, out), actual = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(padded, r * stride, actual, r * cols, cols);
                for (int c = cols; c < stride; c++) {
                    if (!Float.isNaN(padded[r * stride + c])) {
                        return CheckResult.failed("pad_columns_f32", rows + "x" + cols, seed, "wrote pad column " + c + " of row " + r);
                    }
                }
            }
            return BackendChecks.compare("pad_columns_f32", rows + "x" + cols + " to " + stride, seed, actual, values,
                    backend.guardIntact(out), 0, backend.timeMicros(op));
        });
    }

    /** The receive side: two ranks' parts of 10 and 13 columns, gathered padded to 13, unpadded into [3, 23]. */
    static CheckResult unpadColumns(long seed, CudaBackend backend, SplittableRandom random) {
        int rows = 3;
        ColumnLayout layout = ColumnLayout.of(new int[] {10, 13});
        int stride = layout.stride(), total = layout.total();
        return KernelChecks.attempt("unpad_gathered_columns_f32", "2 ranks x " + rows + "x(10|13)", seed, () -> {
            float[] gathered = RandomTensors.floats(random, layout.ranks() * rows * stride, 1), expected = new float[rows * total];
            for (int q = 0; q < layout.ranks(); q++) {
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(gathered, (q * rows + r) * stride, expected, r * total + layout.offsets()[q], layout.cols(q));
                }
            }
            Activation in = backend.allocate(layout.ranks() * rows, stride), out = backend.allocate(rows, total);
            Activation offsets = backend.allocate(1, layout.ranks() + 1);
            float[] offsetBits = new float[layout.ranks() + 1];
            for (int q = 0; q <= layout.ranks(); q++) offsetBits[q] = Float.intBitsToFloat(layout.offsets()[q]);
            backend.write(offsets, offsetBits);
            backend.write(in, gathered);
            backend.poison(out);
            Runnable op = () -> backend.columnMoves().unpad(Stream.DEFAULT, CudaActivation.of(in).data(),
                    CudaActivation.of(out).data(), layout, CudaActivation.of(offsets).data(), rows);
            op.run();
            return BackendChecks.compare("unpad_gathered_columns_f32", "2 ranks x " + rows + "x(10|13)", seed,
                    BackendChecks.read(backend, out), expected, backend.guardIntact(out), 0, backend.timeMicros(op));
        });
    }

    private interface Collective {
        Activation apply(Activation x, Activation out);
    }

    /** {@code op} on random x (and a poisoned output) must give back x exactly. */
    private static CheckResult exact(String check, String shape, long seed, CudaBackend backend, int rows, int cols,
                                     SplittableRandom random, Collective op, String detail) {
        return KernelChecks.attempt(check, shape, seed, () -> {
            float[] values = RandomTensors.floats(random, rows * cols, 1);
            Activation x = backend.allocate(rows, cols), out = backend.allocate(rows, cols);
            backend.write(x, values);
            backend.poison(out);
            Activation result = op.apply(x, out);
            float[] actual = BackendChecks.read(backend, result);
            boolean guardIntact = result == x || backend.guardIntact(out);  // in place: x has no poisoned guard
            double micros = backend.timeMicros(() -> op.apply(x, out));
            CheckResult compared = BackendChecks.compare(check, shape, seed, actual, values, guardIntact, 0, micros);
            return compared.passed() ? compared.withDetail(detail) : compared;
        });
    }
}
