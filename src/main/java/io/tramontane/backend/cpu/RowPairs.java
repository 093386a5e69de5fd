package io.tramontane.backend.cpu;

import io.tramontane.backend.TrialPolicy;
import io.tramontane.weights.DType;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether decode-shaped linears (one to three tokens) stream their BF16 or F32 rows two at a time
 * ({@link FusedRows#bf16PairChains}) or one at a time. Machines disagree: on the 2-vCPU Zen 5 EPYC this project was
 * measured on first, a core streams one sequential read at twice the rate of two interleaved ones, while on a 2-vCPU
 * Emerald Rapids Xeon two rows at once stream 15-17% faster (BF16) and 10-14% (F32) than one (JMH, 2026-11-26;
 * docs/cpu-kernels.md, "Two rows at a time"). Both give the same bits. {@link TrialPolicy#AUTO} therefore times the first one-token calls of
 * each dtype, alternating the two ways call by call so the VM's slower and faster minutes fall on both, and keeps the
 * one that streamed more bytes a second; until then (and for two or three tokens) rows go one at a time. e4m3 rows are
 * not paired: they are bound by the widening arithmetic, and pairs ran 10% slower on the Xeon.
 */
final class RowPairs {
    /** Calls of each way whose time is not counted: the first calls run before C2 has compiled the kernels. */
    static final int WARM_CALLS = 64;
    /** Timed calls of each way, and their weight bytes, before the choice. */
    static final int TIMED_CALLS = 256;
    static final long TIMED_BYTES = 1L << 30;
    /** Past this many timed calls of each way the choice is made whatever bytes they streamed (small models). */
    static final int MAX_TIMED_CALLS = 4096;

    private static final Logger log = LoggerFactory.getLogger(RowPairs.class);

    /** The environment variable that sets the policy: {@code off}, {@code on} or {@code auto} (the default). */
    static final String VARIABLE = "TRAMONTANE_CPU_ROW_PAIRS";

    private final TrialPolicy policy;
    private final Map<DType, Trial> trials = new EnumMap<>(DType.class);

    RowPairs(TrialPolicy policy) {
        this.policy = policy;
    }

    /** True where {@code weight} on {@code tokens} tokens could take pairs: decode-shaped, stored BF16 or F32 rows. */
    static boolean applies(CpuWeight weight, int tokens) {
        if (tokens >= 4 || weight.quantized() != null || weight.q4() != null) return false;
        DType dtype = weight.tensor().dtype();
        return dtype == DType.BF16 || dtype == DType.F32;
    }

    /** Whether this call of {@code weight} on {@code tokens} tokens takes its rows two at a time. */
    synchronized boolean pairs(CpuWeight weight, int tokens) {
        if (!applies(weight, tokens)) return false;
        return switch (policy) {
            case OFF -> false;
            case ON -> true;
            case AUTO -> {
                Trial trial = trials.get(weight.tensor().dtype());
                if (trial != null && trial.decided != null) yield trial.decided;
                yield tokens == 1 && trial != null && trial.nextPaired;
            }
        };
    }

    /** After a call that {@link #pairs} answered {@code paired} for: it took {@code nanos}. */
    synchronized void timed(CpuWeight weight, int tokens, boolean paired, long nanos) {
        if (policy != TrialPolicy.AUTO || tokens != 1 || !applies(weight, tokens)) return;
        DType dtype = weight.tensor().dtype();
        trials.computeIfAbsent(dtype, Trial::new).record(paired, weight.tensor().elementCount() * dtype.bytes(), nanos);
    }

    /** The way AUTO chose for {@code dtype}: null while it is still timing (or never timed it). */
    synchronized Boolean decided(DType dtype) {
        Trial trial = trials.get(dtype);
        return trial == null ? null : trial.decided;
    }

    /** One dtype's calls so far: bytes and time of each way past its warm calls. */
    private static final class Trial {
        final DType dtype;
        final long[] calls = new long[2], bytes = new long[2], nanos = new long[2];
        boolean nextPaired = true;
        Boolean decided;

        Trial(DType dtype) {
            this.dtype = dtype;
        }

        void record(boolean paired, long callBytes, long callNanos) {
            if (decided != null) return;
            int way = paired ? 1 : 0;
            nextPaired = !paired;
            if (++calls[way] <= WARM_CALLS) return;
            bytes[way] += callBytes;
            nanos[way] += callNanos;
            long timed = Math.min(calls[0], calls[1]) - WARM_CALLS;
            boolean enough = timed >= TIMED_CALLS && Math.min(bytes[0], bytes[1]) >= TIMED_BYTES;
            if (enough || timed >= MAX_TIMED_CALLS) decide(timed);
        }

        private void decide(long timed) {
            double single = (double) bytes[0] / nanos[0], paired = (double) bytes[1] / nanos[1];
            decided = paired > single;
            log.info(String.format(Locale.ROOT, "decode rows of %s linears: %.1f GB/s two at a time, %.1f GB/s one at a time "
                    + "(%d timed calls each): %s", dtype, paired, single, timed, decided ? "two at a time" : "one at a time"));
        }
    }
}
