// Frame-by-frame video decoding (files, or any URL FFmpeg can open) to 8-bit RGB or BGR images, or
// to NV12 (the decoder's own 4:2:0 planes, for the GPU pipeline: no colour conversion on the CPU).
//
// open() is start-up code and throws facepipe::Error. read() is the per-frame path: it returns a
// Status and, after the first frame, our code allocates nothing (the AVFrame, AVPacket, swscale
// context and the caller's Image are reused). libavformat still allocates each compressed packet
// internally; that is outside our control and small.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "media/image.h"

namespace facepipe::media {

struct VideoStreamInfo {
  int width = 0;   // of the frames read() returns (after rotation)
  int height = 0;
  int coded_width = 0;  // as stored
  int coded_height = 0;
  double fps = 0;                    // average frame rate, else the container's base rate, else 0
  int64_t frame_count_estimate = -1;  // container's count, else duration * fps, else -1
  double duration_seconds = -1;      // -1 when unknown (live streams)
  std::string codec_name;            // e.g. "h264"
  std::string container;             // e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::string source_pixel_format;   // e.g. "yuv420p"
  int rotation_degrees = 0;          // clockwise turn from the display matrix (0, 90, 180, 270)
  bool rotation_applied = false;     // read() returns frames already turned upright
};

struct VideoReaderOptions {
  // kRGB8 / kBGR8: converted by swscale (colour matrix and range as the stream declares them).
  // kNV12: limited-range yuv420p / nv12 frames (H.264, HEVC, VP9, most cameras) are copied plane by
  // plane, byte-exact, no conversion; other formats (4:2:2, 4:4:4, RGB, full-range yuvj*) go through
  // swscale to limited-range NV12. The colour matrix is passed through, not converted: the GPU
  // pipeline reads NV12 as BT.601, so BT.709 material shows slightly different hues there
  // (docs/media.md).
  PixelFormat format = PixelFormat::kRGB8;
  // Decoder threads (frame/slice threading). 1-2 keeps latency low next to the inference workers;
  // 0 lets FFmpeg use every core.
  int decoder_threads = 2;
  // Interpolated chroma and exact rounding in YUV->RGB. Off: swscale's SIMD path that repeats each
  // chroma sample (about half the conversion CPU; colours differ by a few levels at sharp edges).
  // (Unused for NV12 copied as decoded.)
  bool accurate_color = false;
  // Turn frames upright per the stream's display matrix (phone videos), as players do.
  bool apply_rotation = true;
  // Packets the decoder may reject in a row before read() gives up with an error (corrupt files).
  int max_consecutive_errors = 32;
  // For network URLs: give up when no data arrives for this long (0 = wait forever).
  int io_timeout_ms = 10000;
  // When set and true, blocking I/O gives up at once (open() throws, read() returns kUnavailable):
  // lets a capture thread that waits on a silent network stream stop promptly. Must outlive the reader.
  const std::atomic<bool>* abort_flag = nullptr;
};

struct VideoFrame {
  Image image;               // reused between reads: keep the VideoFrame, do not copy the Image
  int64_t index = -1;        // 0-based count of frames returned since open() / seek_to_start()
  int64_t timestamp_ms = 0;  // presentation time relative to the stream start; strictly increasing
  int64_t pts = 0;           // raw best-effort timestamp in stream time-base units (INT64_MIN: none)
  bool timestamp_estimated = false;  // the stream had no usable timestamp: derived from fps
};

class VideoReader {
 public:
  VideoReader();
  // Opens at once; throws facepipe::Error naming the source on failure.
  explicit VideoReader(const std::string& path_or_url, const VideoReaderOptions& options = {});
  VideoReader(VideoReader&&) noexcept;
  VideoReader& operator=(VideoReader&&) noexcept;
  ~VideoReader();

  void open(const std::string& path_or_url, const VideoReaderOptions& options = {});
  void close();
  bool is_open() const;
  const VideoStreamInfo& info() const;  // valid after open()

  // Decodes the next frame into `frame`. Returns ok with a frame; kOutOfRange ("end of stream")
  // when there are no more frames, including at the end of a truncated file; kInvalidArgument
  // when the data is too corrupt to continue; kUnavailable for I/O errors. Never blocks forever
  // on a file; network sources are bounded by io_timeout_ms.
  Status read(VideoFrame& frame);
  // Rewinds for looping sources; index and timestamp_ms start again from 0. kUnsupported when the
  // source cannot seek (live streams).
  Status seek_to_start();

  // Packets the decoder rejected and skipped so far (corrupt data that was concealed or dropped).
  int64_t decode_errors() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for the status read() returns at the end of the stream.
inline bool is_end_of_stream(const Status& status) { return status.code() == StatusCode::kOutOfRange; }

}  // namespace facepipe::media
