package io.tramontane.weights;

import java.io.PrintStream;

/**
 * A one-line console progress bar for the parts of loading that touch weight bytes (paging a checkpoint
 * in, uploads to a GPU). Redraws at most once per percent; {@link #silent()} draws nothing.
 */
public final class Progress {
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private final long total;
    private long done;
    private int drawnPercent = -1;

    private Progress(PrintStream out, String label, long total) {
        this.out = out;
        this.label = label;
        this.total = Math.max(total, 1);
    }

    /** A bar on {@code out} (normally {@code System.err}) for {@code total} units, shown as bytes. */
    public static Progress bar(PrintStream out, String label, long total) {
        return new Progress(out, label, total);
    }

    public static Progress silent() {
        return new Progress(null, "", 1);
    }

    /** Draws the bar full and ends its line, wherever the count stopped (estimated totals). */
    public synchronized void finish() {
        if (done < total) advance(total - done);
    }

    public synchronized void advance(long amount) {
        done = Math.min(total, done + amount);
        int percent = (int) (done * 100 / total);
        if (out == null || percent == drawnPercent) return;
        drawnPercent = percent;
        int filled = percent * WIDTH / 100;
        boolean gigabytes = total >= 1e9;
        double unit = gigabytes ? 1e9 : 1e6;
        out.printf("\r%s [%s%s] %3d%% %.1f/%.1f %s", label, "#".repeat(filled), ".".repeat(WIDTH - filled), percent,
                done / unit, total / unit, gigabytes ? "GB" : "MB");
        if (done == total) out.println();
        out.flush();
    }
}
