package io.tramontane.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The latency-throughput curve of a serve run as a self-contained SVG: one panel each for time to
 * first token, inter-token latency and end-to-end latency, p50 solid and p99 dashed, against output
 * tokens per second, each point labelled with its load level. Hand-written, so no plotting library.
 */
public final class LatencyPlot {
    private static final int PANEL_W = 340, PANEL_H = 260, MARGIN_L = 60, MARGIN_B = 44, MARGIN_T = 30, GAP = 30;
    private static final int TITLE_H = 40;

    private record Panel(String title, Function<LoadLevel, Percentiles> metric) {}

    private static final List<Panel> PANELS = List.of(
            new Panel("Time to first token (ms)", LoadLevel::ttftMs),
            new Panel("Inter-token latency (ms)", LoadLevel::interTokenMs),
            new Panel("End-to-end latency (ms)", LoadLevel::latencyMs));

    private LatencyPlot() {}

    public static String svg(ServeReport report) {
        int width = PANELS.size() * (MARGIN_L + PANEL_W) + (PANELS.size() - 1) * GAP + 20;
        int height = TITLE_H + MARGIN_T + PANEL_H + MARGIN_B;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"11\">%n", width, height));
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
        text(s, 10, 18, "start", 14, escape("bench serve: " + report.model() + " at " + report.url() + " ("
                + report.endpoint() + ", output " + report.outputTokens() + " tokens)"));
        text(s, 10, 34, "start", 11, escape(report.machine().date() + ", " + report.machine().cpu() + ", load average "
                + String.format(Locale.ROOT, "%.2f", report.machine().loadAverage())
                + "; p50 solid, p99 dashed; x: output tokens/s"));
        List<LoadLevel> levels = report.levels().stream().filter(l -> l.requests() > l.errors()).toList();
        for (int p = 0; p < PANELS.size(); p++) {
            int x0 = 10 + p * (MARGIN_L + PANEL_W + GAP) + MARGIN_L, y0 = TITLE_H + MARGIN_T;
            panel(s, PANELS.get(p), levels, x0, y0);
        }
        return s.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder s, Panel panel, List<LoadLevel> levels, int x0, int y0) {
        double xMax = niceCeiling(levels.stream().mapToDouble(LoadLevel::outputTokensPerSecond).max().orElse(1));
        double yMax = niceCeiling(levels.stream().mapToDouble(l -> panel.metric().apply(l).p99())
                .filter(Double::isFinite).max().orElse(1));
        text(s, x0 + PANEL_W / 2, y0 - 10, "middle", 12, panel.title());
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>%n",
                x0, y0, PANEL_W, PANEL_H));
        for (int i = 0; i <= 4; i++) {
            double fx = i / 4.0;
            int gx = (int) Math.round(x0 + fx * PANEL_W), gy = (int) Math.round(y0 + PANEL_H - fx * PANEL_H);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/>%n",
                    x0, gy, x0 + PANEL_W, gy));
            text(s, gx, y0 + PANEL_H + 14, "middle", 10, number(fx * xMax));
            text(s, x0 - 6, gy + 4, "end", 10, number(fx * yMax));
        }
        text(s, x0 + PANEL_W / 2, y0 + PANEL_H + 32, "middle", 11, "output tokens/s");
        series(s, levels, panel, p -> p.p50(), "#1f77b4", null, x0, y0, xMax, yMax, true);
        series(s, levels, panel, p -> p.p99(), "#d62728", "5,4", x0, y0, xMax, yMax, false);
    }

    private static void series(StringBuilder s, List<LoadLevel> levels, Panel panel, Function<Percentiles, Double> which,
                               String colour, String dash, int x0, int y0, double xMax, double yMax, boolean labels) {
        StringBuilder points = new StringBuilder();
        for (LoadLevel level : levels) {
            double value = which.apply(panel.metric().apply(level));
            if (!Double.isFinite(value)) continue;
            double x = x0 + level.outputTokensPerSecond() / xMax * PANEL_W, y = y0 + PANEL_H - value / yMax * PANEL_H;
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n", x, y, colour));
            if (labels) text(s, (int) x + 5, (int) y - 5, "start", 9, escape(level.label()));
        }
        s.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s/>%n",
                points.toString().strip(), colour, dash == null ? "" : " stroke-dasharray=\"" + dash + "\""));
    }

    /** The smallest 1, 2 or 5 times a power of ten at or above {@code value}: round axis ends. */
    static double niceCeiling(double value) {
        if (!(value > 0) || !Double.isFinite(value)) return 1;
        double power = Math.pow(10, Math.floor(Math.log10(value)));
        for (double step : new double[] {1, 2, 5, 10}) if (step * power >= value) return step * power;
        return 10 * power;
    }

    private static String number(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.3g", v);
    }

    private static void text(StringBuilder s, int x, int y, String anchor, int size, String content) {
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" font-size=\"%d\">%s</text>%n",
                x, y, anchor, size, content));
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
