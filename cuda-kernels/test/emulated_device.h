// The plumbing the host emulators (attention_emulator.cpp, gemm_emulator.cpp) share: the pretend device memory the
// Java side describes, the input that describes it and the output that reports it. What each emulator models (its
// threads, its asynchronous hardware, its kernels) stays in its own file.
//
// Input (little-endian), written by the Java side's EmulatedDevice:
//   8-byte magic (the emulator's own), u32 buffers { u64 address, u64 bytes, u8 filled, [bytes] },
//   u32 launches { u16 name length, name, i32 grid x y z, block x y z, shared bytes, parameters },
//   u32 dumps { u64 address, u64 bytes }
// where each emulator reads its launches' parameters in its own format. Output: the dumped bytes, in order.
//
// Buffers lie at the Java side's fake device addresses, 256-byte aligned as cuMemAlloc's are, and at host addresses
// with the same alignment, so a misaligned device access is a misaligned host access. A buffer the Java side did not
// fill starts as POISON bytes, and GUARD bytes of POISON after every buffer must survive every launch.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tramontane::emulator {

inline std::string program = "emulator";  // the emulator's name, for its error messages

// Ends the run with exit code 1: the Java side reports the message as the test's failure.
[[noreturn]] inline void fail(const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), message.c_str());
    std::exit(1);
}

inline std::string hex(uint64_t value) {
    char text[19];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

constexpr size_t GUARD = 256;
constexpr unsigned char POISON = 0xff;  // NaN as FP32, BF16 and e4m3

// n bytes at a 256-byte aligned host address, so device alignment is host alignment
struct Bytes {
    std::vector<unsigned char> storage;
    unsigned char* start = nullptr;
    size_t count = 0;

    void assign(size_t n, unsigned char value) {
        storage.assign(n + 256, value);
        start = storage.data() + (256 - reinterpret_cast<uintptr_t>(storage.data()) % 256) % 256;
        count = n;
    }
    unsigned char* data() { return start; }
    size_t size() const { return count; }
    unsigned char& operator[](size_t i) { return start[i]; }
};

struct Buffer {
    uint64_t address = 0, bytes = 0;
    Bytes data;  // bytes + GUARD
};

inline std::map<uint64_t, Buffer> buffers;  // by device address

// The buffer holding device address `address` (its one-past-the-end address included), or null.
inline Buffer* buffer_at(uint64_t address) {
    auto it = buffers.upper_bound(address);
    if (it == buffers.begin()) return nullptr;
    --it;
    return address <= it->second.address + it->second.bytes ? &it->second : nullptr;
}

// Device range [address, address + n) as a host pointer; the range must lie in one buffer's data.
inline unsigned char* host_pointer(uint64_t address, size_t n, const std::string& what) {
    Buffer* b = buffer_at(address);
    if (b == nullptr) fail(what + ": address " + hex(address) + " is in no buffer");
    if (address + n > b->address + b->bytes) fail(what + ": " + std::to_string(n) + " bytes at " + hex(address) +
                                                  " run past the buffer at " + hex(b->address));
    return b->data.data() + (address - b->address);
}

// Host pointer p (n bytes) must lie in a buffer's data, not its guard.
inline void require_in_buffer(const void* p, size_t n, const char* what) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (auto& [address, b] : buffers) {
        const unsigned char* start = b.data.data();
        if (c >= start && c < start + b.data.size()) {
            if (c + n > start + b.bytes) fail(std::string(what) + " reads past the end of a buffer");
            return;
        }
    }
    fail(std::string(what) + " reads outside every buffer");
}

inline void require_aligned(const void* p, size_t alignment, const char* what) {
    if (reinterpret_cast<uintptr_t>(p) % alignment != 0) {
        fail(std::string(what) + ": address not " + std::to_string(alignment) + "-byte aligned");
    }
}

// ---- input and output

struct Reader {
    FILE* file;
    template <typename T>
    T read() {
        T value;
        if (std::fread(&value, sizeof(T), 1, file) != 1) fail("truncated input");
        return value;
    }
    void bytes(void* dst, size_t n) {
        if (n > 0 && std::fread(dst, 1, n, file) != n) fail("truncated input");
    }
};

// What every launch record starts with; an emulator's Launch adds its parameters.
struct LaunchShape {
    std::string name;
    int grid[3], block[3], shared;
};

// The whole run: `program INPUT OUTPUT` reads the buffers, then the launches (read_parameters(Reader&, Launch&)
// reads each one's parameters), then the dump ranges; runs every launch with execute(const Launch&), checking after
// each that every buffer's guard survived; writes the dumps. Returns main's exit code.
template <typename Launch>
int run(int argc, char** argv, const char* name, const char (&magic)[9], void (*read_parameters)(Reader&, Launch&),
        void (*execute)(const Launch&)) {
    program = name;
    if (argc != 3) fail(std::string("usage: ") + name + " INPUT OUTPUT");
    FILE* in = std::fopen(argv[1], "rb");
    if (in == nullptr) fail(std::string("cannot read ") + argv[1]);
    Reader r{in};
    char header[8];
    r.bytes(header, 8);
    if (std::memcmp(header, magic, 8) != 0) fail(std::string("not an input for ") + name);
    for (uint32_t n = r.read<uint32_t>(); n > 0; n--) {
        Buffer b;
        b.address = r.read<uint64_t>();
        b.bytes = r.read<uint64_t>();
        b.data.assign(b.bytes + GUARD, POISON);
        if (r.read<uint8_t>() != 0) r.bytes(b.data.data(), b.bytes);
        if (b.address % 256 != 0) fail("buffer addresses are 256-byte aligned, as cuMemAlloc's are");
        buffers.emplace(b.address, std::move(b));
    }
    std::vector<Launch> launches;
    for (uint32_t n = r.read<uint32_t>(); n > 0; n--) {
        Launch launch;
        launch.name.resize(r.read<uint16_t>());
        r.bytes(launch.name.data(), launch.name.size());
        for (int& g : launch.grid) g = r.read<int32_t>();
        for (int& b : launch.block) b = r.read<int32_t>();
        launch.shared = r.read<int32_t>();
        read_parameters(r, launch);
        launches.push_back(std::move(launch));
    }
    std::vector<std::pair<uint64_t, uint64_t>> dumps;
    for (uint32_t n = r.read<uint32_t>(); n > 0; n--) {
        const uint64_t address = r.read<uint64_t>();
        dumps.emplace_back(address, r.read<uint64_t>());
    }
    std::fclose(in);
    for (const Launch& launch : launches) {
        execute(launch);
        for (auto& [address, b] : buffers) {
            for (size_t i = b.bytes; i < b.data.size(); i++) {
                if (b.data[i] != POISON) fail(launch.name + " wrote past the buffer at " + hex(address));
            }
        }
    }
    FILE* out = std::fopen(argv[2], "wb");
    if (out == nullptr) fail(std::string("cannot write ") + argv[2]);
    for (auto [address, bytes] : dumps) std::fwrite(host_pointer(address, bytes, "dump"), 1, bytes, out);
    std::fclose(out);
    return 0;
}

}  // namespace tramontane::emulator
