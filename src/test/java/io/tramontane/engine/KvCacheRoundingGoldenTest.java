package io.tramontane.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.backend.Activation;
import io.tramontane.backend.Backend;
import io.tramontane.backend.cpu.CpuBackend;
import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.model.Model;
import io.tramontane.model.Shard;
import io.tramontane.testing.SharedFixtures;
import io.tramontane.weights.Checkpoint;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a BF16 or FP8 e4m3 KV cache costs on the golden cases, simulated on the CPU: K and V rounded as the CUDA cache
 * stores them (BF16 round to nearest even; e4m3 at scale 1, the golden models ship no KV scales) before the CPU's
 * exact attention, everything else FP32, teacher-forced ({@link TeacherForced}). The CUDA golden checks of those
 * caches (GoldenChecks, generic attention kernels: the golden head dims are 16 and 32) hold the GPU to
 * {@link GoldenChecks#kvBound}; this test shows the rounding alone stays under half of it.
 */
class KvCacheRoundingGoldenTest {

    static Stream<Arguments> casesAndCaches() {
        return GoldenChecks.CASES.stream()
                .flatMap(name -> Stream.of(KvCacheDtype.BF16, KvCacheDtype.FP8_E4M3).map(dtype -> Arguments.of(name, dtype)));
    }

    @ParameterizedTest(name = "{0} with a {1} cache")
    @MethodSource("casesAndCaches")
    void roundingKAndVStaysWellInsideTheGpuChecksBound(String name, KvCacheDtype dtype) {
        Path golden = SharedFixtures.resolve("golden");
        Path dir = GoldenChecks.modelDirs(golden, List.of(name)).getFirst();
        Path caseDir = GoldenChecks.caseDir(dir);
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            CpuBackend cpu = new CpuBackend(new CpuBackend.Options(2, false));
            TeacherForced.Error e;
            try (Model model = new Model(checkpoint.weights(), rounding(cpu, dtype), Shard.of(checkpoint.config(), 0, 1),
                    GoldenChecks.BLOCKS, GoldenChecks.BLOCK)) {
                e = TeacherForced.measure(model, caseDir);
            }
            System.out.printf("golden %s, %s KV cache (simulated): logit RMS %.5f (%.3f%% of the logits' RMS %.3f), max |diff| "
                    + "%.4f over %d rows; argmax kept at %d of %d steps with margin >= %.1f%n", name, dtype, e.rms(),
                    100 * e.relativeRms(), e.referenceRms(), e.maxAbs(), e.rows(), e.marginSteps() - e.marginMisses(),
                    e.marginSteps(), TeacherForced.MARGIN);
            GoldenChecks.KvBound bound = GoldenChecks.kvBound(dtype);
            assertThat(e.relativeRms()).as("%s %s: relative RMS", name, dtype).isLessThan(bound.relativeRms() / 2);
            assertThat(e.maxAbs()).as("%s %s: max |diff|", name, dtype).isLessThan(bound.maxAbs() / 2);
            if (dtype == KvCacheDtype.BF16) {
                assertThat(e.marginMisses()).as("%s %s: argmax changed at a step with margin >= 0.5", name, dtype).isZero();
            }
        }
    }

    /**
     * The CPU's own BF16 cache rounds K and V as they are written, as the simulation above does before an F32 cache: the
     * teacher-forced errors are the same to the last bit, so the bound shown there holds for it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theCpuBf16CacheGivesTheSimulatedLogits(String name) {
        Path golden = SharedFixtures.resolve("golden");
        Path dir = GoldenChecks.modelDirs(golden, List.of(name)).getFirst();
        Path caseDir = GoldenChecks.caseDir(dir);
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            TeacherForced.Error simulated, real;
            CpuBackend f32 = new CpuBackend(new CpuBackend.Options(2, false));
            try (Model model = new Model(checkpoint.weights(), rounding(f32, KvCacheDtype.BF16),
                    Shard.of(checkpoint.config(), 0, 1), GoldenChecks.BLOCKS, GoldenChecks.BLOCK)) {
                simulated = TeacherForced.measure(model, caseDir);
            }
            CpuBackend bf16 = new CpuBackend(new CpuBackend.Options(2, false, CpuWeights.STORED, KvCacheDtype.BF16));
            try (Model model = new Model(checkpoint.weights(), bf16, Shard.of(checkpoint.config(), 0, 1),
                    GoldenChecks.BLOCKS, GoldenChecks.BLOCK)) {
                real = TeacherForced.measure(model, caseDir);
            }
            assertThat(real).as(name).isEqualTo(simulated);
        }
    }

    static Stream<String> cases() {
        return GoldenChecks.CASES.stream();
    }

    /** {@code cpu}, with the K and V of every attention call rounded as a {@code dtype} cache stores them. */
    private static Backend rounding(CpuBackend cpu, KvCacheDtype dtype) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("attention")) {
                round(cpu, (Activation) args[1], dtype);
                round(cpu, (Activation) args[2], dtype);
            }
            try {
                return method.invoke(cpu, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, handler);
    }

    /** Every element of {@code x} through the cache's format, written back (an embedding gather of the rounded rows). */
    private static void round(CpuBackend cpu, Activation x, KvCacheDtype dtype) {
        float[] values = new float[x.rows() * x.cols()], row = new float[x.cols()];
        for (int r = 0; r < x.rows(); r++) {
            cpu.readRow(x, r, row);
            for (int c = 0; c < row.length; c++) {
                values[r * row.length + c] = dtype == KvCacheDtype.BF16 ? Floats.bf16ToFloat(Floats.floatToBf16(row[c]))
                        : Floats.e4m3ToFloat(Floats.floatToE4m3(row[c]));
            }
        }
        Tensor rounded = Tensor.ofFloats("rounded", new long[] {x.rows(), x.cols()}, values);
        cpu.embed(cpu.weight(rounded), IntStream.range(0, x.rows()).toArray(), x);
    }
}
