// The seam between the face pipeline's stages and the inference engine.
//
// A stage (detector, landmark network, ...) fills the runner's input tensors, calls run(), and reads
// the outputs. The engine binds this interface to a compiled plan; tests bind it to stored tensors.
// Stages never see engine internals. All tensors are float32, dense, C order (row-major).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include "common/status.h"

namespace facepipe::face {

struct TensorShape {
  static constexpr int kMaxRank = 6;
  int rank = 0;
  std::array<int64_t, kMaxRank> dims{};  // -1 = dynamic (only in a model's declared input shape)

  TensorShape() = default;
  TensorShape(std::initializer_list<int64_t> d) {
    for (int64_t v : d) {
      if (rank < kMaxRank) dims[static_cast<size_t>(rank++)] = v;
    }
  }
  int64_t operator[](int i) const { return dims[static_cast<size_t>(i)]; }
  int64_t elements() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[static_cast<size_t>(i)];
    return n;
  }
  bool operator==(const TensorShape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[static_cast<size_t>(i)] != o.dims[static_cast<size_t>(i)]) return false;
    return true;
  }
};

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;

  virtual int num_inputs() const = 0;
  virtual int num_outputs() const = 0;
  // The shape input(i) currently has (after set_input_shape), -1 for still-dynamic dimensions.
  virtual TensorShape input_shape(int i) const = 0;
  // Valid after a successful run().
  virtual TensorShape output_shape(int i) const = 0;
  // For models with dynamic input dimensions (RetinaFace at the image's size): the shape of the
  // next run. May allocate when the shape changes (not in the steady state of a video). Runners
  // with static inputs return kUnsupported unless `shape` equals the current one.
  virtual Status set_input_shape(int i, const TensorShape& shape) = 0;

  virtual float* input(int i) = 0;
  virtual const float* output(int i) const = 0;
  virtual Status run() = 0;
};

}  // namespace facepipe::face
