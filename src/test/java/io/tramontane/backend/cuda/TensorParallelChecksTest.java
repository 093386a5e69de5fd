package io.tramontane.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tramontane.cuda.Cuda;
import io.tramontane.cuda.CudaProbe;
import io.tramontane.nccl.Nccl;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Tensor parallelism's GPU checks where a GPU and NCCL exist; how skipped checks are reported everywhere. */
class TensorParallelChecksTest {
    @Test
    void oneRankCollectivesGiveTheirInputBack() {
        assumeTrue(Cuda.available(), "no CUDA driver: " + Cuda.probe().reason());
        assumeTrue(Nccl.probe().available(), "no NCCL: " + Nccl.probe().reason());
        List<CheckResult> results = TensorParallelChecks.oneRank(KernelChecks.seed(), Nccl.probe());
        assertThat(results).hasSize(2).allSatisfy(r -> assertThat(r.passed()).as("%s", r).isTrue());
    }

    @Test
    void skippedChecksNeitherPassNorFailTheReport() {
        CudaProbe probe = new CudaProbe(Optional.empty(), "none", 13000, 1);
        CheckResult pass = new CheckResult("add", "3x4", 1, true, 0, 1e-6, 2, "");
        CheckResult skip = CheckResult.skipped("golden tp2", "all cases", "1 CUDA device(s), 2 needed");
        assertThat(skip.skipped()).isTrue();
        assertThat(pass.skipped()).isFalse();
        GpuCheckReport report = GpuCheckReport.of(probe, null, List.of(pass, skip), null);
        assertThat(report.status()).isEqualTo(GpuCheckReport.PASSED);
        assertThat(report.reason()).isEqualTo("all 1 checks passed, 1 skipped");
        CheckResult fail = new CheckResult("add", "3x4", 1, false, 1, 1e-6, 2, "element 0");
        assertThat(GpuCheckReport.of(probe, null, List.of(fail, skip), null).reason()).isEqualTo("1 of 2 checks failed");
    }
}
