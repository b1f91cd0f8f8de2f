// `facepipe bench pipeline`: options and the frames replayed from memory, shared by the CPU run
// (cmd_bench.cpp) and the GPU run (cmd_bench_cuda.cpp).
#pragma once

#include <string>
#include <vector>

#include "apps/facepipe/cli_common.h"
#include "media/image.h"

namespace facepipe::cli {

struct BenchPipelineOptions {
  ModelOptions models;
  std::string device = "cpu";
  std::string input;
  int cameras = 1;
  double seconds = 10;
  std::string resolution;
  std::string detector = "blazeface";
  int max_faces = 8;
  int threads = 0;
  int frames = 150;
  bool json = false;
  // --device cuda
  int streams = 0;          // pipelines (each its own stream and host thread); 0: 1 per 32 cameras, at least 2 for >1 camera
  int max_batch = 64;       // faces per landmark launch
  bool fp32 = false;        // f32 storage (default f16)
  int gpu = 0;
  std::string pixel_format = "bgr";  // bgr | nv12 | yuyv: what the cameras hand over (uploaded as is)
};

struct BenchFrames {
  std::vector<media::Image> frames;
  bool video = false;  // tracking mode (a video input) or image mode (the detector on every frame)
};

double percentile(std::vector<double> v, double p);

// --device cuda (throws when the build has no CUDA).
void run_bench_pipeline_cuda(const BenchPipelineOptions& o, const BenchFrames& frames);

}  // namespace facepipe::cli
