// Writes a llama-architecture GGUF with random weights in the shape of a Tramontane synthetic model, so llama.cpp
// runs the same shapes and bytes per parameter as `./tramontane bench` (issue #9's side-by-side comparison).
// usage: node make-gguf.mjs OUT.gguf TYPE [dim layers heads kvHeads headDim hidden vocab]
//   TYPE: bf16 | q8_0 | q4_0 | q4_k_m (Q4_K, with Q6_K where llama-quantize's Q4_K_M puts it: the output head, and
//   attn_v and ffn_down in the first and last eighth of the layers and every third between)
import { openSync, writeSync, closeSync } from "node:fs";

const [out, type = "bf16", ...shapeArgs] = process.argv.slice(2);
if (!out || !["bf16", "q8_0", "q4_0", "q4_k_m"].includes(type)) {
    console.error("usage: node make-gguf.mjs OUT.gguf bf16|q8_0|q4_0|q4_k_m [dim layers heads kvHeads headDim hidden vocab]");
    process.exit(2);
}
const [dim, layers, heads, kvHeads, headDim, hidden, vocab] =
    (shapeArgs.length ? shapeArgs : ["2048", "16", "32", "8", "64", "5632", "32768"]).map(Number);

const GGML = { F32: 0, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q6_K: 14, BF16: 30 };
// bytes and weights of one block; K-quant blocks hold 256 weights: Q4_K d, dmin (f16), 12 bytes of 6-bit scales, 128 of
// nibbles; Q6_K 128 bytes of low nibbles, 64 of high bits, 16 int8 scales, d (f16) last
const BLOCK = { [GGML.F32]: [4, 1], [GGML.BF16]: [2, 1], [GGML.Q8_0]: [34, 32], [GGML.Q4_0]: [18, 32], [GGML.Q4_K]: [144, 256],
    [GGML.Q6_K]: [210, 256] };
const KV = { UINT32: 4, INT32: 5, FLOAT32: 6, STRING: 8, ARRAY: 9 };
const ALIGN = 32;
const matrixType = { bf16: GGML.BF16, q8_0: GGML.Q8_0, q4_0: GGML.Q4_0, q4_k_m: GGML.Q4_K }[type];
// llama-quantize's use_more_bits: the first and last eighth of the layers, and every third layer between
const moreBits = l => l < layers / 8 || l >= 7 * layers / 8 || (l - Math.floor(layers / 8)) % 3 === 2;
const layerType = l => (type === "q4_k_m" && moreBits(l) ? GGML.Q6_K : matrixType);

// tensors: name, ne (innermost first), ggml type
const tensors = [["token_embd.weight", [dim, vocab], matrixType]];
for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    tensors.push([b + "attn_norm.weight", [dim], GGML.F32], [b + "attn_q.weight", [dim, heads * headDim], matrixType],
        [b + "attn_k.weight", [dim, kvHeads * headDim], matrixType], [b + "attn_v.weight", [dim, kvHeads * headDim], layerType(l)],
        [b + "attn_output.weight", [heads * headDim, dim], matrixType], [b + "ffn_norm.weight", [dim], GGML.F32],
        [b + "ffn_gate.weight", [dim, hidden], matrixType], [b + "ffn_up.weight", [dim, hidden], matrixType],
        [b + "ffn_down.weight", [hidden, dim], layerType(l)]);
}
tensors.push(["output_norm.weight", [dim], GGML.F32], ["output.weight", [dim, vocab], type === "q4_k_m" ? GGML.Q6_K : matrixType]);

function bytesOf(ne, t) {
    const [bytes, weights] = BLOCK[t];
    return (ne.reduce((a, b) => a * b, 1) / weights) * bytes;
}

// header and metadata
const parts = [];
const u32 = v => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
const i32 = v => { const b = Buffer.alloc(4); b.writeInt32LE(v); parts.push(b); };
const u64 = v => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
const f32 = v => { const b = Buffer.alloc(4); b.writeFloatLE(v); parts.push(b); };
const str = s => { const b = Buffer.from(s, "utf8"); u64(b.length); parts.push(b); };

// a SentencePiece-style vocabulary: unk, bos, eos, the 256 byte tokens, then plain pieces
const tokens = ["<unk>", "<s>", "</s>"];
for (let i = 0; i < 256; i++) tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`);
while (tokens.length < vocab) tokens.push(`\u2581t${tokens.length}`);
const tokenTypes = tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1));

const metadata = [
    ["general.architecture", KV.STRING, "llama"], ["general.name", KV.STRING, `tramontane-synthetic-${type}`],
    ["general.alignment", KV.UINT32, ALIGN],
    ["llama.context_length", KV.UINT32, 4096], ["llama.embedding_length", KV.UINT32, dim],
    ["llama.block_count", KV.UINT32, layers], ["llama.feed_forward_length", KV.UINT32, hidden],
    ["llama.attention.head_count", KV.UINT32, heads], ["llama.attention.head_count_kv", KV.UINT32, kvHeads],
    ["llama.attention.key_length", KV.UINT32, headDim], ["llama.attention.value_length", KV.UINT32, headDim],
    ["llama.rope.dimension_count", KV.UINT32, headDim], ["llama.rope.freq_base", KV.FLOAT32, 1e6],
    ["llama.attention.layer_norm_rms_epsilon", KV.FLOAT32, 1e-5], ["llama.vocab_size", KV.UINT32, vocab],
    ["tokenizer.ggml.model", KV.STRING, "llama"],
    ["tokenizer.ggml.tokens", KV.ARRAY, [KV.STRING, tokens]],
    ["tokenizer.ggml.scores", KV.ARRAY, [KV.FLOAT32, tokens.map((_, i) => -i)]],
    ["tokenizer.ggml.token_type", KV.ARRAY, [KV.INT32, tokenTypes]],
    ["tokenizer.ggml.bos_token_id", KV.UINT32, 1], ["tokenizer.ggml.eos_token_id", KV.UINT32, 2],
    ["tokenizer.ggml.unknown_token_id", KV.UINT32, 0],
];

const writeValue = (t, v) => {
    if (t === KV.UINT32) u32(v); else if (t === KV.INT32) i32(v); else if (t === KV.FLOAT32) f32(v);
    else if (t === KV.STRING) str(v);
    else { const [et, items] = v; u32(et); u64(items.length); for (const item of items) writeValue(et, item); }
};

parts.push(Buffer.from("GGUF", "ascii"));
u32(3);
u64(tensors.length);
u64(metadata.length);
for (const [k, t, v] of metadata) { str(k); u32(t); writeValue(t, v); }
let offset = 0;
const offsets = [];
for (const [name, ne, t] of tensors) {
    str(name); u32(ne.length); for (const d of ne) u64(d); u32(t); u64(offset);
    offsets.push(offset);
    offset += Math.ceil(bytesOf(ne, t) / ALIGN) * ALIGN;
}
let header = Buffer.concat(parts);
header = Buffer.concat([header, Buffer.alloc((ALIGN - header.length % ALIGN) % ALIGN)]);

const fd = openSync(out, "w");
writeSync(fd, header);
let seed = 0x9e3779b9 >>> 0;
const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
for (const [, ne, t] of tensors) {
    let remaining = bytesOf(ne, t);
    const padded = Math.ceil(remaining / ALIGN) * ALIGN, chunk = BLOCK[t][0] << 16;  // whole blocks
    while (remaining > 0) {
        const size = Math.min(chunk, remaining);
        const buf = Buffer.alloc(size);
        if (t === GGML.F32) {
            for (let i = 0; i < size; i += 4) buf.writeFloatLE(1, i);  // norm gains
        } else if (t === GGML.BF16) {
            // |w| in [2^-8, 2^-5), random sign and mantissa: normal values of a trained layer's magnitude
            for (let i = 0; i < size; i += 2) { const r = next(); buf.writeUInt16LE(((r & 1) << 15) | ((0x77 + ((r >>> 1) & 3)) << 7) | ((r >>> 8) & 0x7F), i); }
        } else if (t === GGML.Q4_0) {
            for (let i = 0; i < size; i += 18) {
                buf.writeUInt16LE(0x1c00, i);
                for (let j = 2; j < 18; j++) buf.writeUInt8((next() >>> 8) & 0xFF, i + j);
            }
        } else if (t === GGML.Q4_K || t === GGML.Q6_K) {  // random quants and scales, f16 super-block scales 2^-8
            for (let i = 0; i < size; i++) buf.writeUInt8((next() >>> 8) & 0xFF, i);
            for (let i = 0; i < size; i += BLOCK[t][0]) {
                if (t === GGML.Q4_K) { buf.writeUInt16LE(0x1c00, i); buf.writeUInt16LE(0x1c00, i + 2); }
                else buf.writeUInt16LE(0x1c00, i + 208);
            }
        } else {
            for (let i = 0; i < size; i += 34) {
                buf.writeUInt16LE(0x1c00, i);  // f16 2^-8
                for (let j = 2; j < 34; j++) buf.writeInt8(((next() >>> 8) & 0xFF) - 128, i + j);
            }
        }
        writeSync(fd, buf);
        remaining -= size;
    }
    const pad = padded - bytesOf(ne, t);
    if (pad) writeSync(fd, Buffer.alloc(pad));
}
closeSync(fd);
console.log(`${out}: ${tensors.length} tensors, ${(header.length + offset) / 1e9} GB, ${type}`);
