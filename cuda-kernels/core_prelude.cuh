// What every kernel core (*_core.cuh) starts with: its functions are inline device functions under nvcc and plain
// inline functions when a host emulator (test/*_emulator.cpp) compiles the same source with g++.
#pragma once

#ifdef __CUDACC__
#define CORE_FN __device__ __forceinline__
#define CORE_CONSTEXPR __host__ __device__ constexpr
#else
#define CORE_FN inline
#define CORE_CONSTEXPR constexpr
#endif
