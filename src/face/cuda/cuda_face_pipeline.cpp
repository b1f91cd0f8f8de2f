#include "face/cuda/cuda_face_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "common/cuda/cuda_check.h"
#include "common/cuda/cuda_resources.h"
#include "common/function_ref.h"
#include "engine/cuda/cuda_plan.h"
#include "face/blendshapes/blendshape_input.h"
#include "face/cuda/face_post_cuda.h"
#include "face/detection/blazeface.h"
#include "face/detection/retinaface.h"
#include "face/pipeline/face_models.h"
#include "face/roi/roi.h"
#include "kernels/cuda/image_kernels.h"

namespace facepipe::face::cuda {

namespace {

using engine::cuda::CudaPlan;
using engine::cuda::CudaPlanOptions;
using facepipe::cuda::DeviceBuffer;
using facepipe::cuda::Event;
using facepipe::cuda::PinnedBuffer;
using facepipe::cuda::Stream;
using kernels::cuda::DeviceImageView;
using kernels::cuda::WarpCrop;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// One network for batches of up to `max_batch` items, planned at batch sizes 1, 2, 4, ...: a call
// with n items runs the smallest plan that holds them (the unused tail items compute on stale
// inputs and are ignored). Networks declared with batch 1 (BlazeFace, the blendshape network) are
// planned at batch N through the engine's batch_override, which proves that items stay apart.
// Should the engine refuse a network, it gets `lanes` batch-1 plans instead, each on its own
// stream: item k runs on lane k % lanes, its outputs gathered into batched buffers, the lanes
// forked from and joined back into the caller's stream with events. Callers see [n, ...] outputs
// either way.
class PlanLadder {
 public:
  // `item_shape`: the input's shape with the batch dimension first (set per rung).
  void build(const std::shared_ptr<const engine::Graph>& graph, engine::Shape item_shape, int max_batch,
             const CudaPlanOptions& options, int lanes = 16) {
    rungs_.clear();
    lanes_.clear();
    gathered_.clear();
    output_item_bytes_.clear();
    stream_ = options.stream;
    const engine::Tensor& in = graph->tensor(graph->inputs.at(0));
    const bool fixed_batch = in.shape_known && in.shape.rank() > 0 && in.shape[0] > 0;
    per_item_ = false;
    if (fixed_batch && max_batch > 1) {
      try {
        build_rungs(graph, item_shape, max_batch, options, true);
      } catch (const Error&) {
        rungs_.clear();  // the engine could not prove the batch safe: per-item lanes below
        per_item_ = true;
      }
    }
    if (per_item_) {
      for (int l = 0; l < std::clamp(lanes, 1, max_batch); ++l) {
        Lane lane;
        lane.stream = std::make_unique<Stream>();
        CudaPlanOptions o = options;
        o.stream = lane.stream->get();
        engine::Shape shape = item_shape;
        shape[0] = 1;
        const engine::Shape shapes[] = {shape};
        lane.plan = CudaPlan::create(graph, shapes, o);
        lane.done = std::make_unique<Event>(cudaEventDisableTiming);
        lanes_.push_back(std::move(lane));
      }
      fork_ = std::make_unique<Event>(cudaEventDisableTiming);
    } else if (rungs_.empty()) {
      build_rungs(graph, item_shape, max_batch, options, false);
    }
    const CudaPlan& one = per_item_ ? *lanes_.front().plan : *rungs_.front().plan;
    input_item_ = static_cast<size_t>(one.input(0).num_elements());
    for (int i = 0; i < one.num_outputs(); ++i) {
      const size_t bytes = one.output(i).bytes();
      output_item_bytes_.push_back(bytes);
      if (per_item_) gathered_.emplace_back(bytes * static_cast<size_t>(max_batch));
    }
    max_batch_ = max_batch;
  }

  // Runs n <= max_batch() items: fill(k, input, stream) enqueues item k's input (input_item()
  // floats at `input`) on `stream`; then the network runs. Everything ends up ordered on the
  // caller's stream.
  Status run_items(int n, FunctionRef<Status(int, float*, cudaStream_t)> fill) {
    if (n < 1 || n > max_batch_) return Status::error(StatusCode::kInvalidArgument, "PlanLadder: bad item count");
    if (!per_item_) {
      last_ = &fit(n);
      float* input = last_->input(0).as<float>();
      for (int k = 0; k < n; ++k)
        FACEPIPE_RETURN_IF_ERROR(fill(k, input + static_cast<size_t>(k) * input_item_, stream_));
      return last_->run();
    }
    const int used = std::min(n, static_cast<int>(lanes_.size()));
    FACEPIPE_CUDA_RETURN(cudaEventRecord(fork_->get(), stream_));
    for (int l = 0; l < used; ++l) FACEPIPE_CUDA_RETURN(cudaStreamWaitEvent(lanes_[static_cast<size_t>(l)].stream->get(), fork_->get(), 0));
    for (int k = 0; k < n; ++k) {
      Lane& lane = lanes_[static_cast<size_t>(k % used)];
      const cudaStream_t s = lane.stream->get();
      FACEPIPE_RETURN_IF_ERROR(fill(k, lane.plan->input(0).as<float>(), s));
      FACEPIPE_RETURN_IF_ERROR(lane.plan->run());
      for (size_t i = 0; i < gathered_.size(); ++i)
        FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(gathered_[i].as<uint8_t>() + static_cast<size_t>(k) * output_item_bytes_[i],
                                             lane.plan->output(static_cast<int>(i)).data, output_item_bytes_[i],
                                             cudaMemcpyDeviceToDevice, s));
    }
    for (int l = 0; l < used; ++l) {
      Lane& lane = lanes_[static_cast<size_t>(l)];
      FACEPIPE_CUDA_RETURN(cudaEventRecord(lane.done->get(), lane.stream->get()));
      FACEPIPE_CUDA_RETURN(cudaStreamWaitEvent(stream_, lane.done->get(), 0));
    }
    return Status::ok();
  }
  // Output i of the last run_items, [n, ...] items contiguous.
  const float* output(int i) const {
    return per_item_ ? gathered_[static_cast<size_t>(i)].as<float>() : last_->output(i).as<float>();
  }
  int max_batch() const { return max_batch_; }
  bool per_item() const { return per_item_; }
  bool fp16() const { return per_item_ ? (!lanes_.empty() && lanes_.front().plan->fp16())
                                       : (!rungs_.empty() && rungs_.front().plan->fp16()); }
  bool empty() const { return rungs_.empty() && lanes_.empty(); }

 private:
  void build_rungs(const std::shared_ptr<const engine::Graph>& graph, const engine::Shape& item_shape, int max_batch,
                   const CudaPlanOptions& options, bool batch_override) {
    CudaPlanOptions o = options;
    o.batch_override = batch_override;
    for (int b = 1;; b = std::min(b * 2, max_batch)) {
      engine::Shape shape = item_shape;
      shape[0] = b;
      const engine::Shape shapes[] = {shape};
      rungs_.push_back({b, CudaPlan::create(graph, shapes, o)});
      if (b == max_batch) break;
    }
  }
  CudaPlan& fit(int n) {
    for (auto& r : rungs_)
      if (r.batch >= n) return *r.plan;
    return *rungs_.back().plan;
  }
  struct Rung {
    int batch;
    std::unique_ptr<CudaPlan> plan;
  };
  struct Lane {
    std::unique_ptr<Stream> stream;
    std::unique_ptr<CudaPlan> plan;
    std::unique_ptr<Event> done;
  };
  std::vector<Rung> rungs_;
  std::vector<Lane> lanes_;
  std::unique_ptr<Event> fork_;
  std::vector<DeviceBuffer> gathered_;  // per output (per-item mode)
  std::vector<size_t> output_item_bytes_;
  size_t input_item_ = 0;
  int max_batch_ = 0;
  bool per_item_ = false;
  cudaStream_t stream_ = nullptr;
  CudaPlan* last_ = nullptr;
};

// Bytes of the largest YUV frame of a size (YUYV; NV12 needs less).
size_t raw_frame_bytes(int width, int height) {
  return static_cast<size_t>(width + 1) * static_cast<size_t>(height) * 2;
}

// A detection a crop can be made from: finite, with a box of at least a pixel (a network fed
// garbage must cost a frame's faces, not the pipeline).
bool usable(const Detection& d) {
  const BoundingBox& b = d.box;
  if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) || !std::isfinite(b.y2)) return false;
  for (int k = 0; k < d.num_keypoints; ++k)
    if (!std::isfinite(d.keypoints[static_cast<size_t>(k)].x) || !std::isfinite(d.keypoints[static_cast<size_t>(k)].y))
      return false;
  return b.x2 - b.x1 >= 1.0f && b.y2 - b.y1 >= 1.0f && std::isfinite(d.score);
}

// A landmark crop: which camera, which rectangle, and (IMAGE mode) which detection.
struct Job {
  int camera = 0;
  kernels::RotatedRect rect;
  int detection = -1;
};

}  // namespace

// Start-up: a clear message instead of a CUDA error from the first stream or allocation.
static int checked_device(int device) {
  const int devices = facepipe::cuda::device_count();
  if (device < 0 || device >= devices)
    throw Error("GPU face pipeline: CUDA device " + std::to_string(device) + " not available (" +
                std::to_string(devices) + " usable device(s) found: no GPU, or the driver is missing or too old)");
  FACEPIPE_CUDA_THROW(cudaSetDevice(device));
  return device;
}

struct CudaFacePipeline::Impl {
  int device;  // first: checked before any other member touches CUDA
  CudaFacePipelineConfig config;
  FaceModels models;
  bool retina = false;
  std::unique_ptr<RetinaFace> retinaface;  // host helpers: geometry planning
  std::unique_ptr<BlazeFace> blazeface;    // host helpers: anchors, letterbox format
  int num_landmarks = kNumLandmarks;
  int lm_size = 256;
  int per_camera_jobs = 0;  // landmark crops per camera and call at most
  int max_jobs = 0;
  int max_detections = 0;

  Stream stream;
  PlanLadder detector, landmarks, blendshapes;
  int det_tensor_w = 0, det_tensor_h = 0;  // RetinaFace input (fixed per ladder)
  size_t det_workspace_bytes = 0;

  // Device memory.
  DeviceBuffer frames;         // cameras x max_width x max_height x 3: packed RGB/BGR frames
  size_t frame_bytes = 0;
  // cameras x raw_bytes: NV12/YUYV frames as captured. Every consumer (detector input, landmark
  // crops, preview) samples them here through a YUV DeviceImageView, converting only the pixels it
  // reads, so a YUV frame is never converted as a whole and `frames` is not touched for it.
  DeviceBuffer raw_staging;
  size_t raw_bytes = 0;
  DeviceBuffer previews;       // cameras x preview_bytes (BGR), when previews are on
  PinnedBuffer h_previews;
  size_t preview_bytes = 0;
  DeviceBuffer det_crops;      // cameras WarpCrop: BlazeFace letterboxes as one batched warp
  DeviceBuffer det_params;     // per camera: RetinaFace 2 floats (scale x, y), BlazeFace 4 (region)
  DeviceBuffer det_workspace;
  DeviceBuffer det_out;        // cameras x max_detections Detection
  DeviceBuffer det_counts;     // cameras ints
  DeviceBuffer anchors;        // BlazeFace
  DeviceBuffer crops;          // max_jobs WarpCrop
  DeviceBuffer lm_crops;       // max_jobs LandmarkCrop
  DeviceBuffer lm_points;      // max_jobs x num_landmarks Landmark
  DeviceBuffer presence;       // max_jobs floats

  // Pinned staging (host side of every copy).
  PinnedBuffer h_det_crops, h_det_params, h_det_out, h_det_counts, h_crops, h_lm_crops, h_points, h_presence, h_blend;

  Event ev_start, ev_uploaded, ev_detected, ev_lm_start, ev_lm_done, ev_done;

  // Host state per camera.
  struct Camera {
    std::vector<Detection> detections;
    std::vector<Roi> detection_rois;
    std::vector<FaceResult> faces;
    std::vector<LandmarkResult> results;
    int num_faces = 0;
    std::unique_ptr<FaceTracker> tracker;
    const FramePlan* plan = nullptr;
    bool detect = false;
    int det_slot = -1;      // index in this call's detector batch
    int first_job = 0, num_jobs = 0;
    DeviceImageView image;  // this call's frame on the device
    int width = 0, height = 0;
    int preview_width = 0, preview_height = 0;  // of this call's preview (0: none)
  };
  std::vector<Camera> cams;
  std::vector<Job> jobs;
  std::vector<int> det_cameras;  // detector batch slot → camera
  std::vector<int> active;       // cameras of this call, in call order
  std::vector<CameraFrame> wrapped;  // process_images / process_frames as CameraFrames
  CudaStageTimes times;

  explicit Impl(const CudaFacePipelineConfig& c);
  void plan_detector(int tensor_w, int tensor_h);
  void ensure_frame_capacity(int width, int height);
  Status run(std::span<const CameraFrame> frames, bool video);
  Status upload(std::span<const CameraFrame> frames);
  Status upload_raw(const HostFrame& frame, size_t camera, DeviceImageView& image);
  Status make_previews(std::span<const CameraFrame> frames);
  Status detect();
  Status landmarks_and_blendshapes();
  void finish_image(Camera& cam);
  Status finish_video(Camera& cam);
  const float* job_blendshapes(int j) const { return h_blend.as<float>() + static_cast<size_t>(j) * kNumBlendshapes; }
  const Landmark* job_points(int j) const {
    return h_points.as<Landmark>() + static_cast<size_t>(j) * static_cast<size_t>(num_landmarks);
  }
};

CudaFacePipeline::Impl::Impl(const CudaFacePipelineConfig& c)
    : device(checked_device(c.device)), config(c), models(load_face_models(c.face)) {
  if (config.cameras < 1) throw Error("GPU face pipeline: cameras must be at least 1");
  if (config.max_width < 1 || config.max_height < 1) throw Error("GPU face pipeline: bad maximum frame size");
  if (config.max_batch < 1) throw Error("GPU face pipeline: max_batch must be at least 1");

  retina = config.face.detector == DetectorKind::kRetinaFace;
  if (retina)
    retinaface = std::make_unique<RetinaFace>(models.retinaface);
  else
    blazeface = std::make_unique<BlazeFace>(models.blazeface);
  num_landmarks = models.num_landmarks;
  lm_size = models.landmark_input_size;
  max_detections = config.face.max_faces;
  // IMAGE mode crops up to max_faces detections; VIDEO mode up to the tracker's ROIs (<= 32).
  per_camera_jobs = std::max(config.face.max_faces, kMaxTrackedFaces);
  max_jobs = per_camera_jobs * config.cameras;

  CudaPlanOptions options;
  options.device = config.device;
  options.stream = stream.get();
  options.fp16 = config.fp16;
  const int lm_batch = std::min(config.max_batch, max_jobs);
  landmarks.build(models.landmarks, engine::Shape{1, lm_size, lm_size, 3}, lm_batch, options);
  if (models.blendshapes) {
    CudaPlanOptions bs = options;
    bs.fp16 = false;  // its LayerNorm-style arithmetic needs f32 (the plan would refuse anyway)
    blendshapes.build(models.blendshapes, engine::Shape{1, kNumBlendshapeInputLandmarks, 2}, lm_batch, bs);
  }
  if (retina) {
    const RetinaFaceGeometry g = retinaface->plan(config.max_width, config.max_height);
    plan_detector(g.tensor_width, g.tensor_height);
  } else {
    plan_detector(blazeface->input_width(), blazeface->input_height());
    const auto& a = blazeface->anchors();
    anchors = DeviceBuffer(a.size() * sizeof(Anchor));
    FACEPIPE_CUDA_THROW(cudaMemcpy(anchors.get(), a.data(), anchors.bytes(), cudaMemcpyHostToDevice));
  }

  const auto cams_n = static_cast<size_t>(config.cameras);
  const auto jobs_n = static_cast<size_t>(max_jobs);
  frame_bytes = static_cast<size_t>(config.max_width) * static_cast<size_t>(config.max_height) * 3;
  frames = DeviceBuffer(frame_bytes * cams_n);
  raw_bytes = raw_frame_bytes(config.max_width, config.max_height);
  raw_staging = DeviceBuffer(raw_bytes * cams_n);
  if (config.preview_width > 0 && config.preview_height > 0) {
    preview_bytes = static_cast<size_t>(config.preview_width) * static_cast<size_t>(config.preview_height) * 3;
    previews = DeviceBuffer(preview_bytes * cams_n);
    h_previews = PinnedBuffer(preview_bytes * cams_n);
  }
  det_crops = DeviceBuffer(cams_n * sizeof(WarpCrop));
  h_det_crops = PinnedBuffer(det_crops.bytes());
  det_params = DeviceBuffer(cams_n * 4 * sizeof(float));
  h_det_params = PinnedBuffer(det_params.bytes());
  det_out = DeviceBuffer(cams_n * static_cast<size_t>(max_detections) * sizeof(Detection));
  h_det_out = PinnedBuffer(det_out.bytes());
  det_counts = DeviceBuffer(cams_n * sizeof(int));
  h_det_counts = PinnedBuffer(det_counts.bytes());
  crops = DeviceBuffer(jobs_n * sizeof(WarpCrop));
  h_crops = PinnedBuffer(crops.bytes());
  lm_crops = DeviceBuffer(jobs_n * sizeof(LandmarkCrop));
  h_lm_crops = PinnedBuffer(lm_crops.bytes());
  lm_points = DeviceBuffer(jobs_n * static_cast<size_t>(num_landmarks) * sizeof(Landmark));
  h_points = PinnedBuffer(lm_points.bytes());
  presence = DeviceBuffer(jobs_n * sizeof(float));
  h_presence = PinnedBuffer(presence.bytes());
  h_blend = PinnedBuffer(jobs_n * kNumBlendshapes * sizeof(float));

  cams.resize(cams_n);
  for (Camera& cam : cams) {
    cam.detections.reserve(static_cast<size_t>(max_detections));
    cam.detection_rois.reserve(static_cast<size_t>(max_detections));
    cam.faces.resize(static_cast<size_t>(per_camera_jobs));
    cam.results.resize(static_cast<size_t>(per_camera_jobs));
    cam.tracker = std::make_unique<FaceTracker>(make_tracker_config(config.face));
  }
  jobs.reserve(jobs_n);
  det_cameras.reserve(cams_n);
  active.reserve(cams_n);
  wrapped.reserve(cams_n);
}

// (Re)plans the detector for a tensor size. Only at start-up, or for a single camera whose still
// images change size (RetinaFace at each image's own shape, as on the CPU).
void CudaFacePipeline::Impl::plan_detector(int tensor_w, int tensor_h) {
  CudaPlanOptions options;
  options.device = config.device;
  options.stream = stream.get();
  options.fp16 = config.fp16;
  if (retina) {
    detector.build(models.detector, engine::Shape{1, 3, tensor_h, tensor_w}, config.cameras, options);
    RetinaFaceDecodeParams p = RetinaFaceDecodeParams::from(models.retinaface, tensor_w, tensor_h, max_detections);
    det_workspace_bytes = retinaface_post_workspace_bytes(config.cameras, p);
  } else {
    detector.build(models.detector, engine::Shape{1, tensor_h, tensor_w, 3}, config.cameras, options);
    det_workspace_bytes =
        blazeface_post_workspace_bytes(config.cameras, BlazeFaceDecodeParams::from(models.blazeface, max_detections));
  }
  det_tensor_w = tensor_w;
  det_tensor_h = tensor_h;
  if (det_workspace.bytes() < det_workspace_bytes) det_workspace = DeviceBuffer(det_workspace_bytes);
}

// Start-up (or between videos): room for frames up to width x height.
void CudaFacePipeline::Impl::ensure_frame_capacity(int width, int height) {
  if (width <= config.max_width && height <= config.max_height) return;
  FACEPIPE_CUDA_THROW(cudaSetDevice(config.device));
  FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
  config.max_width = std::max(config.max_width, width);
  config.max_height = std::max(config.max_height, height);
  frame_bytes = static_cast<size_t>(config.max_width) * static_cast<size_t>(config.max_height) * 3;
  frames = DeviceBuffer();
  frames = DeviceBuffer(frame_bytes * cams.size());
  raw_bytes = raw_frame_bytes(config.max_width, config.max_height);
  raw_staging = DeviceBuffer();
  raw_staging = DeviceBuffer(raw_bytes * cams.size());
  if (retina) {
    const RetinaFaceGeometry g = retinaface->plan(config.max_width, config.max_height);
    plan_detector(g.tensor_width, g.tensor_height);
  }
}

Status CudaFacePipeline::Impl::upload(std::span<const CameraFrame> frames_in) {
  for (const CameraFrame& frame : frames_in) {
    const auto i = static_cast<size_t>(frame.camera);
    Camera& cam = cams[i];
    uint8_t* dst = frames.as<uint8_t>() + i * frame_bytes;
    kernels::ImageView packed_view;
    const kernels::ImageView* packed = &frame.image;
    if (frame.raw) {
      const HostFrame& r = *frame.raw;
      if (r.format == kernels::cuda::FrameFormat::kNV12 || r.format == kernels::cuda::FrameFormat::kYUYV) {
        FACEPIPE_RETURN_IF_ERROR(upload_raw(r, i, cam.image));
        cam.width = r.width;
        cam.height = r.height;
        continue;
      }
      // Packed RGB/BGR needs no conversion: every kernel reads either channel order.
      packed_view = kernels::ImageView{r.plane0, r.width, r.height, r.stride0, 3,
                                       r.format == kernels::cuda::FrameFormat::kBGR24 ? kernels::ChannelOrder::kBGR
                                                                                      : kernels::ChannelOrder::kRGB};
      packed = &packed_view;
    }
    const kernels::ImageView& f = *packed;
    FACEPIPE_RETURN_IF_ERROR(kernels::validate(f));
    if (f.channels != 3)
      return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: frames must have 3 channels");
    if (f.width > config.max_width || f.height > config.max_height)
      return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: frame larger than the configured maximum");
    const size_t row = static_cast<size_t>(f.width) * 3;
    FACEPIPE_CUDA_RETURN(cudaMemcpy2DAsync(dst, row, f.data, static_cast<size_t>(f.row_stride), row,
                                           static_cast<size_t>(f.height), cudaMemcpyHostToDevice, stream.get()));
    cam.image = DeviceImageView::packed(dst, f.width, f.height, 3, f.order);
    cam.width = f.width;
    cam.height = f.height;
  }
  return Status::ok();
}

// Previews asked for by this call's frames: downscaled on the GPU, copied back with the results
// (the final synchronization of the call covers the copy).
Status CudaFacePipeline::Impl::make_previews(std::span<const CameraFrame> frames_in) {
  for (const CameraFrame& f : frames_in) {
    Camera& cam = cams[static_cast<size_t>(f.camera)];
    cam.preview_width = cam.preview_height = 0;
    if (f.preview_width <= 0 || f.preview_height <= 0) continue;
    if (f.preview_width > config.preview_width || f.preview_height > config.preview_height)
      return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: preview larger than the configured maximum");
    const size_t offset = static_cast<size_t>(f.camera) * preview_bytes;
    const int64_t stride = static_cast<int64_t>(f.preview_width) * 3;
    FACEPIPE_RETURN_IF_ERROR(kernels::cuda::preview_downscale_cuda(cam.image, f.preview_width, f.preview_height,
                                                                   previews.as<uint8_t>() + offset, stride, stream.get()));
    FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(h_previews.as<uint8_t>() + offset, previews.as<uint8_t>() + offset,
                                         static_cast<size_t>(stride) * static_cast<size_t>(f.preview_height),
                                         cudaMemcpyDeviceToHost, stream.get()));
    cam.preview_width = f.preview_width;
    cam.preview_height = f.preview_height;
  }
  return Status::ok();
}

// A YUV frame: its planes into camera i's staging area (tight rows), and `image` a view of them
// that the sampling kernels read directly (no conversion pass: see raw_staging).
Status CudaFacePipeline::Impl::upload_raw(const HostFrame& f, size_t i, DeviceImageView& image) {
  using kernels::cuda::FrameFormat;
  if (f.width < 1 || f.height < 1 || !f.plane0)
    return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: empty raw frame");
  if (f.width > config.max_width || f.height > config.max_height)
    return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: frame larger than the configured maximum");
  const size_t w = static_cast<size_t>(f.width), h = static_cast<size_t>(f.height);
  const size_t cw = (w + 1) / 2, ch = (h + 1) / 2;
  uint8_t* staging = raw_staging.as<uint8_t>() + i * raw_bytes;
  kernels::cuda::DeviceFrameView view;
  view.format = f.format;
  view.width = f.width;
  view.height = f.height;
  view.plane0 = staging;
  switch (f.format) {
    case FrameFormat::kBGR24:
    case FrameFormat::kRGB24:
      return Status::error(StatusCode::kInternal, "GPU face pipeline: packed frames are uploaded directly");
    case FrameFormat::kYUYV:
      view.stride0 = static_cast<int64_t>(cw * 4);
      FACEPIPE_CUDA_RETURN(cudaMemcpy2DAsync(staging, cw * 4, f.plane0, static_cast<size_t>(f.stride0), cw * 4, h,
                                             cudaMemcpyHostToDevice, stream.get()));
      break;
    case FrameFormat::kNV12:
      if (!f.plane1) return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: NV12 frame without UV plane");
      view.stride0 = static_cast<int64_t>(w);
      view.plane1 = staging + w * h;
      view.stride1 = static_cast<int64_t>(cw * 2);
      FACEPIPE_CUDA_RETURN(cudaMemcpy2DAsync(staging, w, f.plane0, static_cast<size_t>(f.stride0), w, h,
                                             cudaMemcpyHostToDevice, stream.get()));
      FACEPIPE_CUDA_RETURN(cudaMemcpy2DAsync(staging + w * h, cw * 2, f.plane1, static_cast<size_t>(f.stride1), cw * 2,
                                             ch, cudaMemcpyHostToDevice, stream.get()));
      break;
  }
  const DeviceImageView yuv = kernels::cuda::image_view_of(view);
  FACEPIPE_RETURN_IF_ERROR(kernels::cuda::validate(yuv));
  image = yuv;
  return Status::ok();
}

// The detector on every camera with cam.detect set, as one batch; detections back on the host.
Status CudaFacePipeline::Impl::detect() {
  det_cameras.clear();
  for (const int i : active) {
    Camera& cam = cams[static_cast<size_t>(i)];
    cam.det_slot = -1;
    if (cam.detect) {
      cam.det_slot = static_cast<int>(det_cameras.size());
      det_cameras.push_back(i);
    }
  }
  times.detector_batch = static_cast<int>(det_cameras.size());
  if (det_cameras.empty()) return Status::ok();
  const int n = static_cast<int>(det_cameras.size());

  // RetinaFace at a still image's own shape (one camera), as the CPU pipeline does.
  if (retina && config.cameras == 1) {
    const Camera& cam = cams[static_cast<size_t>(det_cameras[0])];
    const RetinaFaceGeometry g = retinaface->plan(cam.width, cam.height);
    if (g.tensor_width != det_tensor_w || g.tensor_height != det_tensor_h) {
      try {
        plan_detector(g.tensor_width, g.tensor_height);
      } catch (const std::exception&) {
        return Status::error(StatusCode::kInternal,
                             "GPU face pipeline: re-planning RetinaFace for a new image size failed (out of device memory?)");
      }
    }
  }

  float* params = h_det_params.as<float>();
  // Each camera's frame straight into its batch item of the detector input.
  const auto fill = [&](int k, float* out, cudaStream_t s) -> Status {
    const Camera& cam = cams[static_cast<size_t>(det_cameras[static_cast<size_t>(k)])];
    if (retina) {
      const RetinaFaceGeometry g = retinaface->plan(cam.width, cam.height, det_tensor_w, det_tensor_h);
      params[2 * k] = g.scale_x;  // the decoder's layout: (scale x, scale y) per item
      params[2 * k + 1] = g.scale_y;
      return kernels::cuda::resize_to_planar_tensor_cuda(cam.image, retinaface->tensor_format(g), out, s);
    }
    // BlazeFace: every camera's letterbox (BlazeFace::preprocess: letterbox_rect, then the warp)
    // as one batched warp launch when the items are contiguous; per item on per-item lanes.
    kernels::TensorFormat format = kernels::tensor_format_signed_range(
        blazeface->input_width(), blazeface->input_height(), kernels::BorderMode::kZero);
    format.sampling = models.blazeface.sampling;
    if (detector.per_item()) {
      kernels::RotatedRect region;
      FACEPIPE_RETURN_IF_ERROR(kernels::cuda::letterbox_to_tensor_cuda(cam.image, format, out, s, &region));
      params[4 * k] = region.cx;
      params[4 * k + 1] = region.cy;
      params[4 * k + 2] = region.width;
      params[4 * k + 3] = region.height;
      return Status::ok();
    }
    if (k != 0) return Status::ok();
    WarpCrop* hc = h_det_crops.as<WarpCrop>();
    for (int j = 0; j < n; ++j) {
      const Camera& c = cams[static_cast<size_t>(det_cameras[static_cast<size_t>(j)])];
      const kernels::RotatedRect region =
          kernels::letterbox_rect(c.width, c.height, blazeface->input_width(), blazeface->input_height());
      FACEPIPE_RETURN_IF_ERROR(kernels::cuda::make_warp_crop(c.image, region, format, hc[j]));
      params[4 * j] = region.cx;
      params[4 * j + 1] = region.cy;
      params[4 * j + 2] = region.width;
      params[4 * j + 3] = region.height;
    }
    FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(det_crops.get(), hc, static_cast<size_t>(n) * sizeof(WarpCrop),
                                         cudaMemcpyHostToDevice, s));
    return kernels::cuda::warp_batch_to_tensor_cuda(det_crops.as<WarpCrop>(), n, format, out, s);
  };
  FACEPIPE_RETURN_IF_ERROR(detector.run_items(n, fill));
  FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(det_params.get(), params, static_cast<size_t>(n) * 4 * sizeof(float),
                                       cudaMemcpyHostToDevice, stream.get()));
  if (retina) {
    // The decoder's prior count is that of the planned tensor.
    const RetinaFaceDecodeParams p =
        RetinaFaceDecodeParams::from(models.retinaface, det_tensor_w, det_tensor_h, max_detections);
    FACEPIPE_RETURN_IF_ERROR(retinaface_postprocess_cuda(detector.output(0), detector.output(1), detector.output(2), n,
                                                         p, det_params.as<float>(), det_workspace.get(),
                                                         det_out.as<Detection>(), det_counts.as<int>(), stream.get()));
  } else {
    const BlazeFaceDecodeParams p = BlazeFaceDecodeParams::from(models.blazeface, max_detections);
    FACEPIPE_RETURN_IF_ERROR(blazeface_postprocess_cuda(detector.output(0), detector.output(1), n, p,
                                                        anchors.as<Anchor>(), det_params.as<float>(),
                                                        det_workspace.get(), det_out.as<Detection>(),
                                                        det_counts.as<int>(), stream.get()));
  }
  FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(h_det_counts.get(), det_counts.get(), static_cast<size_t>(n) * sizeof(int),
                                       cudaMemcpyDeviceToHost, stream.get()));
  FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(h_det_out.get(), det_out.get(),
                                       static_cast<size_t>(n) * static_cast<size_t>(max_detections) * sizeof(Detection),
                                       cudaMemcpyDeviceToHost, stream.get()));
  FACEPIPE_CUDA_RETURN(cudaEventRecord(ev_detected.get(), stream.get()));
  FACEPIPE_CUDA_RETURN(cudaStreamSynchronize(stream.get()));

  for (int s = 0; s < n; ++s) {
    Camera& cam = cams[static_cast<size_t>(det_cameras[static_cast<size_t>(s)])];
    const int count = std::clamp(h_det_counts.as<int>()[s], 0, max_detections);
    const Detection* d = h_det_out.as<Detection>() + static_cast<size_t>(s) * static_cast<size_t>(max_detections);
    cam.detections.clear();
    for (int i = 0; i < count; ++i)
      if (usable(d[i])) cam.detections.push_back(d[i]);
  }
  return Status::ok();
}

// Every job's crop through the landmark network (chunks of max_batch), projection, blendshapes;
// results back in the pinned buffers.
Status CudaFacePipeline::Impl::landmarks_and_blendshapes() {
  times.faces = static_cast<int>(jobs.size());
  FACEPIPE_CUDA_RETURN(cudaEventRecord(ev_lm_start.get(), stream.get()));
  if (jobs.empty()) {
    FACEPIPE_CUDA_RETURN(cudaEventRecord(ev_lm_done.get(), stream.get()));
    return Status::ok();
  }
  kernels::TensorFormat format = kernels::tensor_format_unit_range(lm_size, lm_size, kernels::BorderMode::kReplicate);
  format.sampling = kernels::Sampling::kOpenCv;
  WarpCrop* hc = h_crops.as<WarpCrop>();
  LandmarkCrop* hl = h_lm_crops.as<LandmarkCrop>();
  for (size_t j = 0; j < jobs.size(); ++j) {
    const Job& job = jobs[j];
    const Camera& cam = cams[static_cast<size_t>(job.camera)];
    FACEPIPE_RETURN_IF_ERROR(kernels::cuda::make_warp_crop(cam.image, job.rect, format, hc[j]));
    hl[j] = LandmarkCrop{job.rect.cx, job.rect.cy, job.rect.width, job.rect.height, job.rect.rotation,
                         static_cast<float>(cam.width) / static_cast<float>(cam.height)};
  }
  const size_t n_all = jobs.size();
  FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(crops.get(), hc, n_all * sizeof(WarpCrop), cudaMemcpyHostToDevice, stream.get()));
  FACEPIPE_CUDA_RETURN(
      cudaMemcpyAsync(lm_crops.get(), hl, n_all * sizeof(LandmarkCrop), cudaMemcpyHostToDevice, stream.get()));

  const int chunk_max = landmarks.max_batch();
  for (int s = 0; s < static_cast<int>(n_all); s += chunk_max) {
    const int n = std::min(chunk_max, static_cast<int>(n_all) - s);
    // A batched plan: all crops of the chunk in one warp launch (at item 0, filling items 0..n-1).
    FACEPIPE_RETURN_IF_ERROR(landmarks.run_items(n, [&](int k, float* input, cudaStream_t st) -> Status {
      if (landmarks.per_item())
        return kernels::cuda::warp_batch_to_tensor_cuda(crops.as<WarpCrop>() + s + k, 1, format, input, st);
      if (k != 0) return Status::ok();
      return kernels::cuda::warp_batch_to_tensor_cuda(crops.as<WarpCrop>() + s, n, format, input, st);
    }));
    Landmark* points = lm_points.as<Landmark>() + static_cast<size_t>(s) * static_cast<size_t>(num_landmarks);
    FACEPIPE_RETURN_IF_ERROR(project_landmarks_cuda(landmarks.output(0), landmarks.output(1), 1,
                                                    lm_crops.as<LandmarkCrop>() + s, n, num_landmarks, lm_size, points,
                                                    presence.as<float>() + s, stream.get()));
    if (!blendshapes.empty()) {
      // A batched plan: all n inputs in one launch (at item 0); per-item lanes: one face each.
      FACEPIPE_RETURN_IF_ERROR(blendshapes.run_items(n, [&](int k, float* input, cudaStream_t st) -> Status {
        if (blendshapes.per_item())
          return build_blendshape_input_cuda(points + static_cast<size_t>(k) * static_cast<size_t>(num_landmarks), 1,
                                             input, st);
        return k == 0 ? build_blendshape_input_cuda(points, n, input, st) : Status::ok();
      }));
      FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(h_blend.as<float>() + static_cast<size_t>(s) * kNumBlendshapes,
                                           blendshapes.output(0), static_cast<size_t>(n) * kNumBlendshapes * sizeof(float),
                                           cudaMemcpyDeviceToHost, stream.get()));
    }
  }
  FACEPIPE_CUDA_RETURN(cudaEventRecord(ev_lm_done.get(), stream.get()));
  FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(h_points.get(), lm_points.get(),
                                       n_all * static_cast<size_t>(num_landmarks) * sizeof(Landmark),
                                       cudaMemcpyDeviceToHost, stream.get()));
  FACEPIPE_CUDA_RETURN(
      cudaMemcpyAsync(h_presence.get(), presence.get(), n_all * sizeof(float), cudaMemcpyDeviceToHost, stream.get()));
  return Status::ok();
}

// IMAGE mode: the detections with a face (every one for RetinaFace, whose detection is the
// authority) become the camera's faces, strongest first.
void CudaFacePipeline::Impl::finish_image(Camera& cam) {
  cam.num_faces = 0;
  for (int j = cam.first_job; j < cam.first_job + cam.num_jobs; ++j) {
    const float p = h_presence.as<float>()[j];
    if (p < config.face.min_presence && !retina) continue;
    FaceResult& face = cam.faces[static_cast<size_t>(cam.num_faces)];
    face.id = cam.num_faces;
    face.score = cam.detections[static_cast<size_t>(jobs[static_cast<size_t>(j)].detection)].score;
    face.presence = p;
    face.num_landmarks = num_landmarks;
    std::copy_n(job_points(j), num_landmarks, face.landmarks.begin());
    face.roi = to_roi(jobs[static_cast<size_t>(j)].rect);
    face.has_blendshapes = !blendshapes.empty();
    if (face.has_blendshapes) std::copy_n(job_blendshapes(j), kNumBlendshapes, face.blendshapes.begin());
    finish_face(models.geometry.get(), cam.width, cam.height, face);
    ++cam.num_faces;
  }
}

// VIDEO mode: the tracker takes every crop's result (lost faces, ids, smoothing, next ROIs).
Status CudaFacePipeline::Impl::finish_video(Camera& cam) {
  for (int k = 0; k < cam.num_jobs; ++k) {
    const int j = cam.first_job + k;
    LandmarkResult& r = cam.results[static_cast<size_t>(k)];
    r.presence = h_presence.as<float>()[j];
    if (r.presence >= config.face.min_presence) {
      const std::span<const Landmark> points(job_points(j), static_cast<size_t>(num_landmarks));
      r.landmarks = points;
      r.next_roi = to_roi(roi_from_landmarks(points));
      r.blendshapes = blendshapes.empty() ? std::span<const float>()
                                          : std::span<const float>(job_blendshapes(j), kNumBlendshapes);
    } else {
      r.landmarks = {};
      r.blendshapes = {};
      r.next_roi = to_roi(jobs[static_cast<size_t>(j)].rect);
    }
  }
  FACEPIPE_RETURN_IF_ERROR(
      cam.tracker->update(std::span<const LandmarkResult>(cam.results.data(), static_cast<size_t>(cam.num_jobs))));
  cam.num_faces = 0;
  for (const TrackedFace& t : cam.tracker->faces()) {
    if (cam.num_faces >= config.face.max_faces) break;
    FaceResult& face = cam.faces[static_cast<size_t>(cam.num_faces++)];
    face_from_track(t, face);
    finish_face(models.geometry.get(), cam.width, cam.height, face);
  }
  return Status::ok();
}

Status CudaFacePipeline::Impl::run(std::span<const CameraFrame> frames_in, bool video) {
  const auto t0 = std::chrono::steady_clock::now();
  times = CudaStageTimes{};
  if (frames_in.size() > cams.size())
    return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: more frames than configured cameras");
  active.clear();
  for (const CameraFrame& f : frames_in) {
    if (f.camera < 0 || f.camera >= static_cast<int>(cams.size()))
      return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: camera index out of range");
    if (std::find(active.begin(), active.end(), f.camera) != active.end())
      return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: a camera appears twice in one call");
    active.push_back(f.camera);
  }
  FACEPIPE_CUDA_RETURN(cudaSetDevice(config.device));

  FACEPIPE_CUDA_RETURN(cudaEventRecord(ev_start.get(), stream.get()));
  FACEPIPE_RETURN_IF_ERROR(upload(frames_in));
  FACEPIPE_RETURN_IF_ERROR(make_previews(frames_in));
  FACEPIPE_CUDA_RETURN(cudaEventRecord(ev_uploaded.get(), stream.get()));

  double host_ms = 0;
  auto host_t = std::chrono::steady_clock::now();
  for (const CameraFrame& f : frames_in) {
    Camera& cam = cams[static_cast<size_t>(f.camera)];
    if (video) {
      cam.plan = &cam.tracker->plan_frame(f.timestamp_s);
      cam.detect = cam.plan->need_detection;
    } else {
      cam.detect = true;
    }
    cam.num_jobs = 0;
  }
  host_ms += ms_since(host_t);

  FACEPIPE_RETURN_IF_ERROR(detect());
  if (times.detector_batch == 0) FACEPIPE_CUDA_RETURN(cudaEventRecord(ev_detected.get(), stream.get()));

  host_t = std::chrono::steady_clock::now();
  jobs.clear();
  for (const int i : active) {
    Camera& cam = cams[static_cast<size_t>(i)];
    cam.first_job = static_cast<int>(jobs.size());
    if (video) {
      if (cam.detect) {
        cam.detection_rois.clear();
        for (const Detection& d : cam.detections)
          cam.detection_rois.push_back(
              to_roi(retina ? roi_from_retinaface_detection(d) : roi_from_detection(d)));
        cam.plan = &cam.tracker->add_detections(cam.detection_rois);
      }
      for (const PlannedRoi& r : cam.plan->rois())
        jobs.push_back(Job{static_cast<int>(i), to_rotated_rect(r.roi), -1});
    } else {
      const int count = std::min(static_cast<int>(cam.detections.size()), config.face.max_faces);
      for (int d = 0; d < count; ++d) {
        const Detection& det = cam.detections[static_cast<size_t>(d)];
        jobs.push_back(Job{static_cast<int>(i), retina ? roi_from_retinaface_detection(det) : roi_from_detection(det), d});
      }
    }
    cam.num_jobs = static_cast<int>(jobs.size()) - cam.first_job;
  }
  host_ms += ms_since(host_t);

  FACEPIPE_RETURN_IF_ERROR(landmarks_and_blendshapes());
  FACEPIPE_CUDA_RETURN(cudaEventRecord(ev_done.get(), stream.get()));
  FACEPIPE_CUDA_RETURN(cudaStreamSynchronize(stream.get()));

  host_t = std::chrono::steady_clock::now();
  for (const int i : active) {
    if (video)
      FACEPIPE_RETURN_IF_ERROR(finish_video(cams[static_cast<size_t>(i)]));
    else
      finish_image(cams[static_cast<size_t>(i)]);
  }
  host_ms += ms_since(host_t);

  float ms = 0;
  if (cudaEventElapsedTime(&ms, ev_start.get(), ev_uploaded.get()) == cudaSuccess) times.upload_ms = ms;
  if (cudaEventElapsedTime(&ms, ev_uploaded.get(), ev_detected.get()) == cudaSuccess) times.detect_ms = ms;
  if (cudaEventElapsedTime(&ms, ev_lm_start.get(), ev_lm_done.get()) == cudaSuccess) times.landmarks_ms = ms;
  if (cudaEventElapsedTime(&ms, ev_lm_done.get(), ev_done.get()) == cudaSuccess) times.blendshapes_ms = ms;
  times.host_ms = host_ms;
  times.total_ms = ms_since(t0);
  return Status::ok();
}

// ---- Public interface ------------------------------------------------------------------------------

CudaFacePipeline::CudaFacePipeline(const CudaFacePipelineConfig& config) : impl_(std::make_unique<Impl>(config)) {}
CudaFacePipeline::~CudaFacePipeline() = default;

// Cameras 0..n-1 with frames[i] as camera i; cameras past n report no faces.
Status CudaFacePipeline::process_images(std::span<const kernels::ImageView> frames) {
  if (frames.size() > impl_->cams.size())
    return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: more frames than configured cameras");
  impl_->wrapped.clear();
  for (size_t i = 0; i < frames.size(); ++i) impl_->wrapped.push_back(CameraFrame{static_cast<int>(i), frames[i], 0.0});
  for (size_t i = frames.size(); i < impl_->cams.size(); ++i) impl_->cams[i].num_faces = 0;
  return impl_->run(impl_->wrapped, false);
}

Status CudaFacePipeline::process_frames(std::span<const kernels::ImageView> frames,
                                        std::span<const double> timestamps_s) {
  if (timestamps_s.size() != frames.size())
    return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: one timestamp per frame needed");
  if (frames.size() > impl_->cams.size())
    return Status::error(StatusCode::kInvalidArgument, "GPU face pipeline: more frames than configured cameras");
  impl_->wrapped.clear();
  for (size_t i = 0; i < frames.size(); ++i)
    impl_->wrapped.push_back(CameraFrame{static_cast<int>(i), frames[i], timestamps_s[i]});
  for (size_t i = frames.size(); i < impl_->cams.size(); ++i) impl_->cams[i].num_faces = 0;
  return impl_->run(impl_->wrapped, true);
}

Status CudaFacePipeline::process(std::span<const CameraFrame> frames, bool video) { return impl_->run(frames, video); }

void CudaFacePipeline::ensure_frame_capacity(int width, int height) { impl_->ensure_frame_capacity(width, height); }

Status CudaFacePipeline::grow_frame_capacity(int width, int height) {
  if (width <= impl_->config.max_width && height <= impl_->config.max_height) return Status::ok();
  try {
    impl_->ensure_frame_capacity(width, height);
  } catch (const std::exception&) {
    return Status::error(StatusCode::kInternal, "GPU face pipeline: no device memory for a larger frame");
  }
  return Status::ok();
}

void CudaFacePipeline::reset_tracking() {
  for (auto& cam : impl_->cams) cam.tracker->reset();
}

void CudaFacePipeline::reset_tracking(int camera) {
  auto& cam = impl_->cams.at(static_cast<size_t>(camera));
  cam.tracker->reset();
  cam.plan = nullptr;
  cam.num_faces = 0;
  cam.num_jobs = 0;
  cam.detections.clear();  // keeps its capacity: no allocation when the slot is used again
}

int CudaFacePipeline::cameras() const { return static_cast<int>(impl_->cams.size()); }

std::span<const FaceResult> CudaFacePipeline::faces(int camera) const {
  const auto& cam = impl_->cams.at(static_cast<size_t>(camera));
  return {cam.faces.data(), static_cast<size_t>(cam.num_faces)};
}

std::span<const Detection> CudaFacePipeline::detections(int camera) const {
  return impl_->cams.at(static_cast<size_t>(camera)).detections;
}

kernels::ImageView CudaFacePipeline::preview(int camera) const {
  const auto& cam = impl_->cams.at(static_cast<size_t>(camera));
  if (cam.preview_width <= 0) return {};
  return kernels::ImageView{impl_->h_previews.as<uint8_t>() + static_cast<size_t>(camera) * impl_->preview_bytes,
                            cam.preview_width, cam.preview_height, static_cast<int64_t>(cam.preview_width) * 3, 3,
                            kernels::ChannelOrder::kBGR};
}

const CudaStageTimes& CudaFacePipeline::stage_times() const { return impl_->times; }
int CudaFacePipeline::landmark_count() const { return impl_->num_landmarks; }
bool CudaFacePipeline::has_blendshapes() const { return !impl_->blendshapes.empty(); }
bool CudaFacePipeline::fp16() const { return impl_->landmarks.fp16(); }
cudaStream_t CudaFacePipeline::stream() const { return impl_->stream.get(); }

}  // namespace facepipe::face::cuda
