#include "face/detection/face_detector.h"

namespace facepipe::face {

Status FaceDetector::detect(const kernels::ImageView& image, ModelRunner& runner, std::vector<Detection>& out,
                            ThreadPool* pool) {
  out.clear();
  FACEPIPE_RETURN_IF_ERROR(preprocess(image, runner, pool));
  FACEPIPE_RETURN_IF_ERROR(runner.run());
  return postprocess(runner, out);
}

}  // namespace facepipe::face
