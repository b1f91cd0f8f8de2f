// Face detectors: image in, face boxes with keypoints out, split around the network run.
//
//   preprocess(image, runner)   fills the runner's input tensor and remembers how it was made
//   runner.run()                the engine's job
//   postprocess(runner, out)    decodes the outputs into Detections in image pixels
//
// A detector object carries per-frame state between the two halves: use one per thread. Neither half
// allocates in the steady state once `out` has enough capacity (reserve it: e.g. 64).
#pragma once

#include <vector>

#include "common/status.h"
#include "face/detection/model_runner.h"
#include "face/types.h"
#include "kernels/image_view.h"

namespace facepipe {
class ThreadPool;
}

namespace facepipe::face {

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;

  virtual Status preprocess(const kernels::ImageView& image, ModelRunner& runner, ThreadPool* pool) = 0;
  virtual Status postprocess(const ModelRunner& runner, std::vector<Detection>& out) = 0;

  // preprocess, run, postprocess.
  Status detect(const kernels::ImageView& image, ModelRunner& runner, std::vector<Detection>& out,
                ThreadPool* pool = nullptr);
};

}  // namespace facepipe::face
