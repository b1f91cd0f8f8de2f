// facepipe bench pipeline --device cuda: N cameras replaying frames held in pinned host memory,
// split over K pipelines (each its own CUDA stream and host thread, so one pipeline's upload and
// host work overlap another's network runs). Latency is one call: frames in pinned memory →
// results on the host. docs/benchmarks.md has the commands and the numbers.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "apps/facepipe/bench_pipeline.h"
#include "common/status.h"
#include "media/kernel_view.h"
#if FACEPIPE_HAVE_CUDA
#include "common/cuda/cuda_resources.h"
#include "common/cuda/device_affinity.h"
#include "face/cuda/cuda_face_pipeline.h"
#include "kernels/frame_encode.h"
#endif

namespace facepipe::cli {

#if !FACEPIPE_HAVE_CUDA

void run_bench_pipeline_cuda(const BenchPipelineOptions&, const BenchFrames&) {
  throw Error("bench pipeline --device cuda: this build has no CUDA support");
}

#else

namespace {

struct Worker {
  std::unique_ptr<face::cuda::CudaFacePipeline> pipeline;
  std::vector<int> cameras;               // global camera numbers
  std::vector<face::cuda::CameraFrame> batch;  // this call's frames
  std::vector<double> latency_ms;
  face::cuda::CudaStageTimes sums;
  int64_t camera_frames = 0, faces = 0, detector_frames = 0, calls = 0;
  std::string error;
};

}  // namespace

void run_bench_pipeline_cuda(const BenchPipelineOptions& o, const BenchFrames& loaded) {
  if (o.cameras < 1) throw Error("--cameras must be at least 1");
  if (o.gpu < 0 || o.gpu >= facepipe::cuda::device_count())
    throw Error("bench pipeline --device cuda: GPU " + std::to_string(o.gpu) + " not available (" +
                std::to_string(facepipe::cuda::device_count()) + " usable CUDA device(s))");
  const int streams = std::clamp(o.streams > 0 ? o.streams : (o.cameras == 1 ? 1 : std::max(2, (o.cameras + 31) / 32)),
                                 1, o.cameras);
  const auto& frames = loaded.frames;
  const bool video = loaded.video;

  // Threads and pinned frames next to the GPU (multi-socket hosts).
  const std::string local_cpus = facepipe::cuda::bind_thread_to_device_cpus(o.gpu);
  if (!o.json && !local_cpus.empty()) std::printf("bench: threads bound to GPU %d's CPUs %s\n", o.gpu, local_cpus.c_str());
  // Frames in pinned memory, in the cameras' pixel format: what a capture thread hands over.
  using kernels::cuda::FrameFormat;
  const FrameFormat format = o.pixel_format == "nv12" ? FrameFormat::kNV12
                             : o.pixel_format == "yuyv" ? FrameFormat::kYUYV : FrameFormat::kBGR24;
  const int width = frames[0].width(), height = frames[0].height();
  const size_t cw = static_cast<size_t>(width + 1) / 2, ch = static_cast<size_t>(height + 1) / 2;
  const size_t y_bytes = static_cast<size_t>(width) * static_cast<size_t>(height);
  const size_t frame_bytes = format == FrameFormat::kNV12   ? y_bytes + cw * ch * 2
                             : format == FrameFormat::kYUYV ? cw * 4 * static_cast<size_t>(height)
                                                            : y_bytes * 3;
  facepipe::cuda::PinnedBuffer pinned(frame_bytes * frames.size());
  std::vector<face::cuda::HostFrame> host_frames;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].width() != width || frames[i].height() != height) throw Error(o.input + ": frames of different sizes");
    uint8_t* dst = pinned.as<uint8_t>() + i * frame_bytes;
    const kernels::ImageView v = media::kernel_view(frames[i]);
    face::cuda::HostFrame f;
    f.format = format;
    f.width = width;
    f.height = height;
    f.plane0 = dst;
    switch (format) {
      case FrameFormat::kNV12:
        kernels::encode_nv12(v, dst, width, dst + y_bytes, static_cast<int64_t>(cw * 2));
        f.stride0 = width;
        f.plane1 = dst + y_bytes;
        f.stride1 = static_cast<int64_t>(cw * 2);
        break;
      case FrameFormat::kYUYV:
        kernels::encode_yuyv(v, dst, static_cast<int64_t>(cw * 4));
        f.stride0 = static_cast<int64_t>(cw * 4);
        break;
      default:  // packed BGR, as OpenCV-style capture code hands it over
        for (int y = 0; y < height; ++y) {
          const uint8_t* src = v.data + static_cast<size_t>(y) * static_cast<size_t>(v.row_stride);
          uint8_t* row = dst + static_cast<size_t>(y) * static_cast<size_t>(width) * 3;
          for (int x = 0; x < width; ++x) {
            row[3 * x] = src[3 * x + 2];
            row[3 * x + 1] = src[3 * x + 1];
            row[3 * x + 2] = src[3 * x];
          }
        }
        f.stride0 = static_cast<int64_t>(width) * 3;
        break;
    }
    host_frames.push_back(f);
  }

  face::cuda::CudaFacePipelineConfig config;
  config.face.detector = face::parse_detector(o.detector);
  config.face.max_faces = o.max_faces;
  config.face.models_dir = o.models.models_dir;
  config.device = o.gpu;
  config.max_width = frames[0].width();
  config.max_height = frames[0].height();
  config.max_batch = o.max_batch;
  config.fp16 = !o.fp32;
  std::vector<Worker> workers(static_cast<size_t>(streams));
  for (int c = 0; c < o.cameras; ++c) workers[static_cast<size_t>(c % streams)].cameras.push_back(c);
  for (Worker& w : workers) {
    config.cameras = static_cast<int>(w.cameras.size());
    w.pipeline = std::make_unique<face::cuda::CudaFacePipeline>(config);
    w.batch.resize(w.cameras.size());
    w.latency_ms.reserve(1 << 20);
  }

  std::atomic<bool> timing{false}, stop{false};
  auto loop = [&](Worker& w) {
    int64_t index = 0;
    bool counted = false;
    while (!stop.load(std::memory_order_relaxed)) {
      for (size_t k = 0; k < w.cameras.size(); ++k) {
        // Cameras start at different frames of the clip, as independent cameras would.
        const size_t f = (static_cast<size_t>(index) + static_cast<size_t>(w.cameras[k]) * 7) % host_frames.size();
        w.batch[k].camera = static_cast<int>(k);
        w.batch[k].raw = &host_frames[f];
        w.batch[k].timestamp_s = static_cast<double>(index) / 30.0;
      }
      const auto t0 = std::chrono::steady_clock::now();
      const Status st = w.pipeline->process(w.batch, video);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (!st.is_ok()) {
        w.error = st.message();
        stop = true;
        return;
      }
      ++index;
      if (!timing.load(std::memory_order_relaxed)) continue;
      if (!counted) {  // the first call after the start of timing may have begun before it
        counted = true;
        continue;
      }
      w.latency_ms.push_back(ms);
      const face::cuda::CudaStageTimes& t = w.pipeline->stage_times();
      w.sums.upload_ms += t.upload_ms;
      w.sums.detect_ms += t.detect_ms;
      w.sums.landmarks_ms += t.landmarks_ms;
      w.sums.blendshapes_ms += t.blendshapes_ms;
      w.sums.host_ms += t.host_ms;
      w.detector_frames += t.detector_batch;
      w.camera_frames += static_cast<int64_t>(w.cameras.size());
      for (int c = 0; c < w.pipeline->cameras(); ++c) w.faces += static_cast<int64_t>(w.pipeline->faces(c).size());
      ++w.calls;
    }
  };
  std::vector<std::thread> threads;
  for (Worker& w : workers) threads.emplace_back(loop, std::ref(w));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // warm-up: clocks, caches, first detections
  timing = true;
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const Worker& w : workers)
    if (!w.error.empty()) throw Error(o.input + ": " + w.error);

  std::vector<double> latency;
  face::cuda::CudaStageTimes sums;
  int64_t camera_frames = 0, faces = 0, detector_frames = 0, calls = 0;
  for (const Worker& w : workers) {
    latency.insert(latency.end(), w.latency_ms.begin(), w.latency_ms.end());
    sums.upload_ms += w.sums.upload_ms;
    sums.detect_ms += w.sums.detect_ms;
    sums.landmarks_ms += w.sums.landmarks_ms;
    sums.blendshapes_ms += w.sums.blendshapes_ms;
    sums.host_ms += w.sums.host_ms;
    camera_frames += w.camera_frames;
    faces += w.faces;
    detector_frames += w.detector_frames;
    calls += w.calls;
  }
  if (calls == 0) throw Error("no call finished in the timed window: raise --seconds");
  const double nc = static_cast<double>(calls);
  const double p50 = percentile(latency, 0.5), p99 = percentile(latency, 0.99);
  const auto [mn, mx] = std::minmax_element(latency.begin(), latency.end());
  const bool fp16 = workers[0].pipeline->fp16();
  if (o.json) {
    std::printf("{\"device\": \"cuda\", \"cameras\": %d, \"streams\": %d, \"mode\": \"%s\", \"width\": %d, \"height\": %d, "
                "\"fp16\": %s, \"pixel_format\": \"%s\", \"camera_frames\": %lld, \"seconds\": %.3f, \"frames_per_s\": %.2f, \"faces_per_s\": %.2f, "
                "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"min\": %.3f, \"max\": %.3f}, \"stages_ms\": {\"upload\": %.4f, "
                "\"detect\": %.4f, \"landmarks\": %.4f, \"blendshapes\": %.4f, \"host\": %.4f}, \"detector_runs_per_frame\": %.3f}\n",
                o.cameras, streams, video ? "video" : "image", frames[0].width(), frames[0].height(), fp16 ? "true" : "false", o.pixel_format.c_str(),
                static_cast<long long>(camera_frames), elapsed, camera_frames / elapsed, faces / elapsed, p50, p99, *mn, *mx,
                sums.upload_ms / nc, sums.detect_ms / nc, sums.landmarks_ms / nc, sums.blendshapes_ms / nc, sums.host_ms / nc,
                static_cast<double>(detector_frames) / static_cast<double>(camera_frames));
    return;
  }
  std::printf("pipeline %s (cuda:%d, %s mode, %dx%d %s frames, %s detector, %d camera(s) on %d stream(s), %s)\n",
              o.input.c_str(), o.gpu, video ? "video/tracking" : "image", frames[0].width(), frames[0].height(),
              o.pixel_format.c_str(), o.detector.c_str(), o.cameras, streams, fp16 ? "fp16" : "fp32");
  std::printf("  %lld camera-frames in %.2f s: %.1f frames/s, %.1f face-frames/s\n", static_cast<long long>(camera_frames),
              elapsed, camera_frames / elapsed, faces / elapsed);
  std::printf("  latency per call (%d camera(s) each): median = %.3f ms  p99 = %.3f ms  min = %.3f ms  max = %.3f ms\n",
              static_cast<int>(workers[0].cameras.size()), p50, p99, *mn, *mx);
  std::printf("  stages per call (mean): upload %.3f ms, detect %.3f ms (GPU, %.0f%% of frames), landmarks %.3f ms, "
              "blendshapes + copy back %.3f ms, host %.3f ms\n",
              sums.upload_ms / nc, sums.detect_ms / nc, 100.0 * static_cast<double>(detector_frames) / camera_frames,
              sums.landmarks_ms / nc, sums.blendshapes_ms / nc, sums.host_ms / nc);
}

#endif

}  // namespace facepipe::cli
