// Paged causal GQA attention over FP32 KV pools laid out like CpuKvCache: per layer [blocks * block_size,
// kv_heads * head_dim], a sequence's position j living in pool row table[j / block_size] * block_size +
// j % block_size.
#include "common.cuh"

namespace {
constexpr int ATTENTION_THREADS = 128;   // keys per chunk: one per thread
constexpr int MAX_HEAD_DIM = 256;        // two output dims per thread
}

// k_pool[slots[i], :] = k[rows[i], :], v_pool likewise, for work item i; k, v: [tokens, width]. grid = items.
HOT_KERNEL void kv_store_f32(const float* __restrict__ k, const float* __restrict__ v, const int* __restrict__ rows,
                             const int* __restrict__ slots, float* __restrict__ k_pool, float* __restrict__ v_pool,
                             int width) {
    const int64_t src = static_cast<int64_t>(rows[blockIdx.x]) * width;
    const int64_t dst = static_cast<int64_t>(slots[blockIdx.x]) * width;
    for (int i = threadIdx.x; i < width; i += blockDim.x) {
        k_pool[dst + i] = k[src + i];
        v_pool[dst + i] = v[src + i];
    }
}

// One block per (query head, work item); a work item is a batch row `rows[i]` at sequence position
// `positions[i]` whose block table starts at tables[table_offsets[i]]. Keys 0..position are visited in chunks
// of ATTENTION_THREADS with an online softmax (running max m, running sum l, output rescaled by exp(m - m_new)).
// q, out: [rows, q_cols] with q_cols = heads * head_dim; head h reads kv head h / group.
HOT_KERNEL void __launch_bounds__(ATTENTION_THREADS) attention_f32(
    const float* __restrict__ q, const float* __restrict__ k_pool, const float* __restrict__ v_pool,
    const int* __restrict__ rows, const int* __restrict__ positions, const int* __restrict__ table_offsets,
    const int* __restrict__ tables, float* __restrict__ out, int q_cols, int head_dim, int kv_width, int group,
    int block_size, float scale) {
    __shared__ __align__(16) float q_s[MAX_HEAD_DIM];
    __shared__ float p_s[ATTENTION_THREADS];   // the chunk's probabilities
    __shared__ int key_row[ATTENTION_THREADS]; // the chunk's pool rows
    __shared__ float scratch[32];
    const int head = blockIdx.x, tid = threadIdx.x;
    const int row = rows[blockIdx.y], position = positions[blockIdx.y];
    const int* table = tables + table_offsets[blockIdx.y];
    const int kv_offset = head / group * head_dim;
    const float* q_row = q + static_cast<int64_t>(row) * q_cols + head * head_dim;
    for (int d = tid; d < head_dim; d += ATTENTION_THREADS) q_s[d] = q_row[d];
    __syncthreads();
    const bool vector_keys = (head_dim & 3) == 0;  // key rows start on 16 bytes

    // output dims tid and tid + ATTENTION_THREADS (MAX_HEAD_DIM = 2 * ATTENTION_THREADS)
    const int d0 = tid, d1 = tid + ATTENTION_THREADS;
    float m = -INFINITY, l = 0.0f, acc0 = 0.0f, acc1 = 0.0f;
    for (int c0 = 0; c0 <= position; c0 += ATTENTION_THREADS) {
        const int j = c0 + tid;
        float s = -INFINITY;
        if (j <= position) {
            const int pool_row = table[j / block_size] * block_size + j % block_size;
            key_row[tid] = pool_row;
            const float* key = k_pool + static_cast<int64_t>(pool_row) * kv_width + kv_offset;
            float dot = 0.0f;
            if (vector_keys) {
                for (int d = 0; d < head_dim; d += 4) {
                    const float4 kv = __ldg(reinterpret_cast<const float4*>(key + d));
                    dot = fmaf(q_s[d], kv.x, dot);
                    dot = fmaf(q_s[d + 1], kv.y, dot);
                    dot = fmaf(q_s[d + 2], kv.z, dot);
                    dot = fmaf(q_s[d + 3], kv.w, dot);
                }
            } else {
                for (int d = 0; d < head_dim; d++) dot = fmaf(q_s[d], key[d], dot);
            }
            s = dot * scale;
        }
        const float m_new = fmaxf(m, tramontane::block_max(s, scratch));
        const float p = j <= position ? expf(s - m_new) : 0.0f;
        p_s[tid] = p;
        const float alpha = expf(m - m_new);  // 0 on the first chunk (m = -inf)
        l = l * alpha + tramontane::block_sum(p, scratch);  // its barriers publish p_s and key_row
        const int keys = min(ATTENTION_THREADS, position + 1 - c0);
        acc0 *= alpha;
        acc1 *= alpha;
        const float* values = v_pool + kv_offset;
        for (int jj = 0; jj < keys; jj++) {
            const float* v_row = values + static_cast<int64_t>(key_row[jj]) * kv_width;
            const float p_j = p_s[jj];
            if (d0 < head_dim) acc0 = fmaf(p_j, v_row[d0], acc0);
            if (d1 < head_dim) acc1 = fmaf(p_j, v_row[d1], acc1);
        }
        m = m_new;
        __syncthreads();  // p_s and key_row are rewritten by the next chunk
    }
    float* o = out + static_cast<int64_t>(row) * q_cols + head * head_dim;
    if (d0 < head_dim) o[d0] = acc0 / l;
    if (d1 < head_dim) o[d1] = acc1 / l;
}
