package io.tramontane.backend.cpu;

import io.tramontane.backend.Activation;
import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.Backend;
import io.tramontane.backend.Collective;
import io.tramontane.backend.ExpertRoutes;
import io.tramontane.backend.KvCache;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.TrialPolicy;
import io.tramontane.backend.Weight;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.TokenDraw;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * The CPU backend: FP32 activations on the heap, weights read from the mapped checkpoint in their
 * stored dtype (or, on request, linears copied or quantized at load into off-heap memory, on 2 MB pages but for q8, that
 * the backend frees on close), output rows split statically over a fixed thread pool.
 */
public final class CpuBackend implements Backend {

    /**
     * @param threads             worker threads of this rank
     * @param staticActivationFp8 for FP8 linears that carry an activation scale, quantize inputs to e4m3
     *                            as the checkpoint prescribes (w8a8); false dequantizes weights only (w8a16)
     * @param weights             linears (output head included) as stored, copied at load onto 2 MB pages, or quantized at load to q8 / q4
     * @param kvCache             how the KV cache stores keys and values: F32 (exact) or BF16
     */
    public record Options(int threads, boolean staticActivationFp8, CpuWeights weights, KvCacheDtype kvCache) {
        public Options {
            CpuWeights.requireGiven(weights);
            KvCacheDtype.requireFor("cpu", kvCache);
        }

        /** An F32 KV cache. */
        public Options(int threads, boolean staticActivationFp8, CpuWeights weights) {
            this(threads, staticActivationFp8, weights, KvCacheDtype.F32);
        }

        /** Linears as stored, an F32 KV cache. */
        public Options(int threads, boolean staticActivationFp8) {
            this(threads, staticActivationFp8, CpuWeights.STORED);
        }

        public static Options defaults() {
            return new Options(Runtime.getRuntime().availableProcessors(), true);
        }
    }

    private final Options options;
    private final CpuThreads threads;
    private final RowPairs rowPairs = new RowPairs(TrialPolicy.fromEnvironment(RowPairs.VARIABLE));
    private final Collective collective;
    /** Holds the quantized or copied linears; shared because the worker threads read them. */
    private final Arena arena = Arena.ofShared();

    public CpuBackend(Options options, Collective collective) {
        this.options = options;
        this.threads = new CpuThreads(options.threads());
        this.collective = collective;
    }

    public CpuBackend(Options options) {
        this(options, Collective.SINGLE);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Activation allocate(int rows, int cols) {
        return new CpuActivation(rows, cols);
    }

    @Override
    public Weight weight(Tensor tensor) {
        return CpuWeight.plain(tensor);
    }

    @Override
    public Weight linear(Linear linear) {
        float activationScale = options.staticActivationFp8() ? linear.activationScale() : Float.NaN;
        if (options.weights() == CpuWeights.STORED && linear.weight().storage().isNative()) {
            return CpuWeight.linear(linear.weight(), linear.weightScale(), activationScale);
        }
        if (options.weights() == CpuWeights.STORED || options.weights() == CpuWeights.COPIED) {  // asked for, or stored on the Java heap
            return CpuWeight.linear(LinearCopy.of(linear.weight(), threads, arena), linear.weightScale(), activationScale);
        }
        QuantizedMatrix q = Quantizer.quantize(linear.weight(), linear.weightScale(), options.weights(), threads, arena);
        return CpuWeight.quantized(linear.weight(), q, activationScale);
    }

    @Override
    public KvCache allocateKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim) {
        return new CpuKvCache(options.kvCache(), layers, blocks, blockSize, kvHeads, headDim);
    }

    @Override
    public void embed(Weight table, int[] tokens, Activation out) {
        CpuWeight w = CpuWeight.of(table);
        CpuActivation o = CpuActivation.of(out);
        float[] row = new float[o.cols()];
        for (int t = 0; t < tokens.length; t++) {
            if (tokens[t] < 0 || tokens[t] >= w.rows()) {
                throw new IllegalArgumentException("token id " + tokens[t] + " outside the vocabulary [0, " + w.rows() + ")");
            }
            RowDecoder.decode(w.tensor(), tokens[t], row);
            System.arraycopy(row, 0, o.data(), t * o.cols(), o.cols());
        }
    }

    @Override
    public void rmsNorm(Activation x, Weight gain, float eps, Activation out) {
        CpuActivation in = CpuActivation.of(x), o = CpuActivation.of(out);
        int d = in.cols();
        float[] g = CpuWeight.of(gain).values();
        if (g == null || g.length != d) {
            throw new IllegalArgumentException("RMSNorm gain " + CpuWeight.of(gain).tensor() + " for rows of " + d);
        }
        for (int t = 0; t < in.rows(); t++) {
            int base = t * d;
            float inverseRms = (float) (1 / Math.sqrt(VectorMath.dot(in.data(), base, in.data(), base, d) / d + eps));
            VectorMath.scaleByGain(in.data(), base, inverseRms, g, o.data(), base, d);
        }
    }

    @Override
    public void linear(Activation x, Weight weight, Activation out) {
        CpuActivation in = CpuActivation.of(x), o = CpuActivation.of(out);
        CpuWeight w = CpuWeight.of(weight);
        int n = in.rows(), inFeatures = in.cols(), outFeatures = o.cols();
        if (w.cols() != inFeatures || w.rows() != outFeatures || o.rows() != n) {
            throw new IllegalArgumentException("linear " + w.tensor() + ": input [" + n + ", " + inFeatures
                    + "], output [" + o.rows() + ", " + outFeatures + "]");
        }
        float[] xs = w.quantizesActivations() ? quantizeE4m3(in, w.activationScale()) : in.data();
        float scale = w.weightScale() * (w.quantizesActivations() ? w.activationScale() : 1f);
        if (!RowBlockDecoder.supports(w)) {  // a dtype without a block decoder: decode each row once
            threads.parallelFor(outFeatures, 8, (from, to) -> {
                float[] row = new float[inFeatures];
                for (int r = from; r < to; r++) {
                    RowDecoder.decode(w.tensor(), r, row);
                    for (int t = 0; t < n; t++) {
                        o.data()[t * outFeatures + r] = VectorMath.dot(xs, t * inFeatures, row, 0, inFeatures) * scale;
                    }
                }
            });
            return;
        }
        // pieces of whole decode folds (sixteen rows), or of whole prefill tiles (four, five or six rows)
        int grain = n < 4 ? 16 : 60;
        QuantizedMatrix q4 = w.q4();
        if (q4 != null) {
            Q4Activations x4 = Q4Activations.quantize(xs, n, inFeatures, threads);
            threads.parallelFor(outFeatures, grain, (from, to) -> LinearKernel.q4Rows(q4, x4, from, to, scale, o.data(), outFeatures));
            return;
        }
        ArrayAlignment.Buffer splitBuffer = LinearKernel.takesSplitTokens(w, n) ? kept(SPLIT_INPUT, n * inFeatures + ArrayAlignment.SLACK) : null;
        float[] split = splitBuffer == null ? null : splitBuffer.floats();
        int splitStart = split == null ? 0 : arrangeTokens(w, xs, n, inFeatures, splitBuffer);
        boolean pairs = rowPairs.pairs(w, n);
        long start = System.nanoTime();
        threads.parallelFor(outFeatures, grain, (from, to) -> LinearKernel.rows(w, xs, split, splitStart, n, inFeatures,
                from, to, scale, o.data(), outFeatures, pairs));
        rowPairs.timed(w, n, pairs, System.nanoTime() - start);
    }

    /**
     * The input tokens into {@code split} from its first 64-byte boundary ({@link ArrayAlignment}), in the layout the
     * kernels of {@code w} read ({@link RowBlockDecoder#arrangeTokens}); returns where they start.
     */
    private int arrangeTokens(CpuWeight w, float[] x, int tokens, int cols, ArrayAlignment.Buffer buffer) {
        float[] split = buffer.floats();
        int start = buffer.start(), vectorEnd = RowBlockDecoder.vectorEnd(cols, w);
        if (tokens < 8) RowBlockDecoder.arrangeTokens(w, x, 0, tokens, cols, vectorEnd, split, start);
        else threads.parallelFor(tokens, 1, (from, to) -> RowBlockDecoder.arrangeTokens(w, x, from, to, cols, vectorEnd, split, start));
        return start;
    }

    /**
     * Static activation quantization: {@code e4m3(clamp(x / scale, -448, 448))}, kept as the decoded values, in a
     * per-thread buffer up to {@link #KEPT_FLOATS}.
     */
    private static float[] quantizeE4m3(CpuActivation x, float scale) {
        int n = x.data().length;
        float[] q = kept(E4M3_INPUT, n).floats();
        for (int i = 0; i < n; i++) q[i] = Floats.e4m3ToFloat(Floats.floatToE4m3(x.data()[i] / scale));
        return q;
    }

    /**
     * A buffer of at least {@code floats}, the calling thread's own up to {@link #KEPT_FLOATS} (a decode step's linears
     * allocate nothing; a long prefill's buffer is the call's own, so no thread holds it).
     */
    private static ArrayAlignment.Buffer kept(ThreadLocal<ArrayAlignment.Buffer> buffer, int floats) {
        if (floats > KEPT_FLOATS) return new ArrayAlignment.Buffer(floats);
        ArrayAlignment.Buffer b = buffer.get();
        if (b.floats().length < floats) buffer.set(b = new ArrayAlignment.Buffer(floats));
        return b;
    }

    private static final int KEPT_FLOATS = 2 << 20;
    private static final ThreadLocal<ArrayAlignment.Buffer> E4M3_INPUT = ThreadLocal.withInitial(() -> new ArrayAlignment.Buffer(0));
    private static final ThreadLocal<ArrayAlignment.Buffer> SPLIT_INPUT = ThreadLocal.withInitial(() -> new ArrayAlignment.Buffer(0));

    @Override
    public void rope(Activation x, int headDim, float[] cos, float[] sin) {
        CpuActivation a = CpuActivation.of(x);
        int half = headDim / 2, heads = a.cols() / headDim;
        float[] d = a.data();
        for (int t = 0; t < a.rows(); t++) {
            for (int h = 0; h < heads; h++) VectorMath.rotateHalf(d, t * a.cols() + h * headDim, half, cos, sin, t * half);
        }
    }

    @Override
    public void scaleRows(Activation x, float[] scale) {
        CpuActivation a = CpuActivation.of(x);
        for (int t = 0; t < a.rows(); t++) VectorMath.scale(a.data(), t * a.cols(), a.cols(), scale[t]);
    }

    @Override
    public void attention(Activation q, Activation k, Activation v, KvCache cache, int layer, AttentionBatch batch,
                          float scale, Activation out) {
        CpuAttention.run(threads, CpuActivation.of(q), CpuActivation.of(k), CpuActivation.of(v), (CpuKvCache) cache,
                layer, batch, scale, CpuActivation.of(out));
    }

    @Override
    public void swiglu(Activation gate, Activation up) {
        float[] g = CpuActivation.of(gate).data(), u = CpuActivation.of(up).data();
        threads.parallelFor(g.length, 1 << 16, (from, to) -> VectorMath.swiglu(g, u, from, to));
    }

    @Override
    public void zero(Activation x) {
        java.util.Arrays.fill(CpuActivation.of(x).data(), 0f);
    }

    @Override
    public void add(Activation x, Activation y) {
        float[] a = CpuActivation.of(x).data(), b = CpuActivation.of(y).data();
        VectorMath.axpy(1f, b, 0, a, 0, a.length);
    }

    @Override
    public void gatherRows(Activation src, int[] rows, Activation dst) {
        CpuActivation s = CpuActivation.of(src), d = CpuActivation.of(dst);
        for (int i = 0; i < rows.length; i++) System.arraycopy(s.data(), rows[i] * s.cols(), d.data(), i * d.cols(), d.cols());
    }

    // ---- Mixture of experts: routing on the host, each expert's rows through linear as one block

    @Override
    public Weight experts(List<Linear> projections) {
        List<Weight> experts = projections.stream().map(this::linear).toList();
        return new CpuExperts(experts, experts.getFirst().rows(), experts.getFirst().cols());
    }

    @Override
    public ExpertRoutes routeExperts(Activation routerLogits, int topK) {
        CpuActivation logits = CpuActivation.of(routerLogits);
        return CpuExpertRoutes.route(logits.data(), logits.rows(), logits.cols(), topK);
    }

    @Override
    public void gatherRouted(Activation x, ExpertRoutes routes, Activation xSorted) {
        CpuActivation in = CpuActivation.of(x), o = CpuActivation.of(xSorted);
        CpuExpertRoutes r = CpuExpertRoutes.of(routes);
        requireRouted("gatherRouted", in, r.tokens(), o, r.rows(), in.cols());
        for (int i = 0; i < r.rows(); i++) System.arraycopy(in.data(), r.token(i) * in.cols(), o.data(), i * o.cols(), o.cols());
    }

    @Override
    public void expertLinear(Activation xSorted, Weight experts, ExpertRoutes routes, Activation out) {
        CpuActivation in = CpuActivation.of(xSorted), o = CpuActivation.of(out);
        CpuExperts w = CpuExperts.of(experts);
        CpuExpertRoutes r = CpuExpertRoutes.of(routes);
        if (w.experts().size() != r.experts()) {
            throw new IllegalArgumentException(w.experts().size() + " expert weights for routes over " + r.experts() + " experts");
        }
        requireRouted("expertLinear", in, r.rows(), o, r.rows(), (int) w.rows());
        for (int e = 0; e < r.experts(); e++) {  // each expert's rows as one batch, as a dense linear would see them
            int first = r.offsets()[e], count = r.offsets()[e + 1] - first;
            if (count == 0) continue;
            CpuActivation xe = new CpuActivation(count, in.cols()), ye = new CpuActivation(count, o.cols());
            System.arraycopy(in.data(), first * in.cols(), xe.data(), 0, xe.data().length);
            linear(xe, w.experts().get(e), ye);
            System.arraycopy(ye.data(), 0, o.data(), first * o.cols(), ye.data().length);
        }
    }

    @Override
    public void combineRouted(Activation ySorted, ExpertRoutes routes, Activation out) {
        CpuActivation in = CpuActivation.of(ySorted), o = CpuActivation.of(out);
        CpuExpertRoutes r = CpuExpertRoutes.of(routes);
        requireRouted("combineRouted", in, r.rows(), o, r.tokens(), in.cols());
        java.util.Arrays.fill(o.data(), 0f);
        for (int i = 0; i < r.rows(); i++) {  // sorted rows ascend by expert: each token's sum runs in expert order
            int slot = r.order()[i];
            VectorMath.axpy(r.weight()[slot], in.data(), i * in.cols(), o.data(), (slot / r.topK()) * o.cols(), o.cols());
        }
    }

    /** {@code in} has {@code inRows} rows; {@code out} is {@code [outRows, outCols]}. */
    private static void requireRouted(String op, CpuActivation in, int inRows, CpuActivation out, int outRows, int outCols) {
        if (in.rows() != inRows || out.rows() != outRows || out.cols() != outCols) {
            throw new IllegalArgumentException(op + ": input [" + in.rows() + ", " + in.cols() + "] and output [" + out.rows()
                    + ", " + out.cols() + "], expected " + inRows + " input rows and output [" + outRows + ", " + outCols + "]");
        }
    }

    @Override
    public void allReduceSum(Activation x) {
        CpuActivation a = CpuActivation.of(x);
        collective.allReduceSum(a.data(), a.data().length);
    }

    @Override
    public void allGatherColumns(Activation part, Activation whole) {
        CpuActivation p = CpuActivation.of(part), w = CpuActivation.of(whole);
        int n = p.rows();
        // exchange column-major parts so ranks with different widths concatenate correctly
        float[] columns = new float[p.data().length];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < p.cols(); c++) columns[c * n + t] = p.data()[t * p.cols() + c];
        }
        float[] gathered = new float[w.data().length];
        collective.allGather(columns, columns.length, gathered);
        for (int c = 0; c < w.cols(); c++) {
            for (int t = 0; t < n; t++) w.data()[t * w.cols() + c] = gathered[c * n + t];
        }
    }

    /** Ops run as they are called: nothing is held back. */
    @Override
    public void submit() {}

    @Override
    public void readRow(Activation x, int row, float[] dst) {
        CpuActivation a = CpuActivation.of(x);
        System.arraycopy(a.data(), row * a.cols(), dst, 0, a.cols());
    }

    @Override
    public int[] sample(Activation logits, List<DrawRequest> draws) {
        CpuActivation a = CpuActivation.of(logits);
        if (draws.size() != a.rows()) throw new IllegalArgumentException(draws.size() + " draws for " + a.rows() + " rows of logits");
        int[] tokens = new int[draws.size()];
        for (int r = 0; r < tokens.length; r++) tokens[r] = TokenDraw.pick(a.data(), r * a.cols(), a.cols(), draws.get(r));
        return tokens;
    }

    @Override
    public void close() {
        threads.close();
        arena.close();
    }
}
