package io.tramontane.backend.cuda;

/**
 * One GPU check: a kernel (or driver feature) on one shape, compared with a float64 reference.
 *
 * @param seed the random inputs' seed, to reproduce a failure
 * @param maxRelativeError max over elements of |gpu - ref| / |ref|; NaN when an output was left unwritten
 * @param micros the kernel's time on a warm launch (CUDA events), NaN where not timed
 * @param detail why it failed, or a note; empty when there is nothing to say
 */
public record CheckResult(String check, String shape, long seed, boolean passed, double maxRelativeError,
                          double bound, double micros, String detail) {

    /** Detail of a check that could not run on this machine: it neither passes nor fails the report. */
    public static final String SKIPPED = "skipped: ";

    public static CheckResult skipped(String check, String shape, String reason) {
        return new CheckResult(check, shape, 0, true, Double.NaN, Double.NaN, Double.NaN, SKIPPED + reason);
    }

    public boolean skipped() {
        return detail.startsWith(SKIPPED);
    }

    static CheckResult failed(String check, String shape, long seed, String detail) {
        return new CheckResult(check, shape, seed, false, Double.NaN, Double.NaN, Double.NaN, detail);
    }

    CheckResult named(String newCheck) {
        return new CheckResult(newCheck, shape, seed, passed, maxRelativeError, bound, micros, detail);
    }

    CheckResult withDetail(String newDetail) {
        return new CheckResult(check, shape, seed, passed, maxRelativeError, bound, micros, newDetail);
    }
}
