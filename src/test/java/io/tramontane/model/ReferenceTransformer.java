package io.tramontane.model;

import io.tramontane.weights.FeedForward;
import io.tramontane.weights.LayerWeights;
import io.tramontane.weights.Linear;
import io.tramontane.weights.ModelWeights;
import io.tramontane.weights.Tensor;

/**
 * A deliberately naive float64 transformer (whole sequence at once, no cache, no backend) written
 * straight from the formulas of MODELS.md, to check the engine's forward pass against.
 */
public final class ReferenceTransformer {
    private final ModelWeights w;
    private final ModelConfig c;

    public ReferenceTransformer(ModelWeights weights) {
        this.w = weights;
        this.c = weights.config();
    }

    /** Logits for every position of {@code tokens} ({@code [n][vocab]}). */
    public double[][] logits(int[] tokens) {
        int n = tokens.length;
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = row(w.tokenEmbeddings(), tokens[t]);
        for (LayerWeights layer : w.layers()) {
            double[][] a = new double[n][];
            for (int t = 0; t < n; t++) a[t] = rmsNorm(x[t], layer.attentionNorm());
            double[][] attn = attention(layer, a);
            for (int t = 0; t < n; t++) add(x[t], attn[t]);
            for (int t = 0; t < n; t++) add(x[t], ffn(layer.ffn(), rmsNorm(x[t], layer.ffnNorm())));
        }
        double[][] logits = new double[n][];
        for (int t = 0; t < n; t++) logits[t] = matvec(w.output(), 1, rmsNorm(x[t], w.finalNorm()));
        return logits;
    }

    private double[][] attention(LayerWeights layer, double[][] a) {
        int n = a.length, d = c.headDim(), half = d / 2;
        double[][] q = new double[n][], k = new double[n][], v = new double[n][];
        Rope rope = new Rope(c);
        double m = c.yarn() == null ? 1 : c.yarn().attentionFactor();
        for (int t = 0; t < n; t++) {
            q[t] = apply(layer.wq(), a[t]);
            k[t] = apply(layer.wk(), a[t]);
            v[t] = apply(layer.wv(), a[t]);
            for (double[] vec : new double[][] {q[t], k[t]}) {
                for (int h = 0; h < vec.length / d; h++) {
                    for (int i = 0; i < half; i++) {
                        double angle = t * rope.inverseFrequency(i), cs = Math.cos(angle) * m, sn = Math.sin(angle) * m;
                        double x0 = vec[h * d + i], x1 = vec[h * d + i + half];
                        vec[h * d + i] = x0 * cs - x1 * sn;
                        vec[h * d + i + half] = x1 * cs + x0 * sn;
                    }
                }
            }
            if (c.temperature() != null) {
                double tau = 1 + c.temperature().beta() * Math.log(1 + Math.floor((double) t / c.temperature().originalMaxPositions()));
                for (int i = 0; i < q[t].length; i++) q[t][i] *= tau;
            }
        }
        double[][] out = new double[n][c.queryWidth()];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < c.nHeads(); h++) {
                int g = h / c.groupSize();
                double[] s = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j <= t; j++) {
                    for (int i = 0; i < d; i++) s[j] += q[t][h * d + i] * k[j][g * d + i];
                    s[j] /= Math.sqrt(d);
                    max = Math.max(max, s[j]);
                }
                for (int j = 0; j <= t; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j <= t; j++) {
                    for (int i = 0; i < d; i++) out[t][h * d + i] += s[j] / sum * v[j][g * d + i];
                }
            }
        }
        double[][] o = new double[n][];
        for (int t = 0; t < n; t++) o[t] = apply(layer.wo(), out[t]);
        return o;
    }

    private double[] ffn(FeedForward ffn, double[] x) {
        return switch (ffn) {
            case FeedForward.Dense dense -> swiglu(dense, x);
            case FeedForward.Moe moe -> {
                double[] r = matvec(moe.router(), 1, x);
                int first = argmax(r, -1), second = c.moe().topK() > 1 ? argmax(r, first) : -1;
                double[] y = new double[x.length];
                double norm = Math.exp(r[first]) + (second >= 0 ? Math.exp(r[second]) : 0);
                for (int e : second >= 0 ? new int[] {first, second} : new int[] {first}) {
                    double[] ye = swiglu(moe.experts().get(e), x);
                    for (int i = 0; i < y.length; i++) y[i] += Math.exp(r[e]) / norm * ye[i];
                }
                yield y;
            }
        };
    }

    private static int argmax(double[] r, int exclude) {
        int best = -1;
        for (int e = 0; e < r.length; e++) if (e != exclude && (best < 0 || r[e] > r[best])) best = e;
        return best;
    }

    private double[] swiglu(FeedForward.Dense mlp, double[] x) {
        double[] gate = apply(mlp.w1(), x), up = apply(mlp.w3(), x);
        for (int i = 0; i < gate.length; i++) gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
        return apply(mlp.w2(), gate);
    }

    private double[] rmsNorm(double[] x, Tensor gain) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + c.normEps());
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * r * gain.get(i);
        return y;
    }

    /** Weight-only dequantization: {@code W = stored * weightScale}. */
    private static double[] apply(Linear linear, double[] x) {
        return matvec(linear.weight(), linear.weightScale(), x);
    }

    private static double[] matvec(Tensor m, double scale, double[] x) {
        double[] y = new double[(int) m.rows()];
        for (int r = 0; r < y.length; r++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) s += m.get(r, i) * x[i];
            y[r] = s * scale;
        }
        return y;
    }

    private static double[] row(Tensor m, int r) {
        double[] y = new double[(int) m.cols()];
        for (int i = 0; i < y.length; i++) y[i] = m.get(r, i);
        return y;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }
}
