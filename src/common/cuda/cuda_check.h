// Error checks for the CUDA runtime. Start-up code throws (FACEPIPE_CUDA_THROW); hot paths turn a
// failure into a Status (FACEPIPE_CUDA_RETURN) so that a daemon survives a GPU error.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "common/status.h"

namespace facepipe::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  throw Error(std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ") in " + expr +
              " at " + file + ":" + std::to_string(line));
}

}  // namespace facepipe::cuda

#define FACEPIPE_CUDA_THROW(expr)                                                            \
  do {                                                                                       \
    const cudaError_t facepipe_err_ = (expr);                                                \
    if (facepipe_err_ != cudaSuccess) ::facepipe::cuda::throw_cuda_error(facepipe_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#define FACEPIPE_CUDA_RETURN(expr)                                                                 \
  do {                                                                                             \
    if ((expr) != cudaSuccess) return ::facepipe::Status::error(::facepipe::StatusCode::kDeviceError, #expr); \
  } while (0)
