// Writes RGB/BGR frames to a video file (overlay videos): H.264 through libx264 when this FFmpeg
// has it, else MPEG-4 part 2; yuv420p so that every player and browser can show it.
//
// open() and close() are start-up/shut-down code and throw facepipe::Error. write() is per frame and
// returns a Status; after the first frame our code allocates nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "media/image.h"

namespace facepipe::media {

struct VideoWriterOptions {
  double fps = 30.0;  // pass VideoStreamInfo::fps of the source to keep its timing
  // Encoder name; empty picks "libx264" if available, else "mpeg4".
  std::string codec;
  // Quality: x264 CRF (0-51, lower = better, 23 = x264 default); mpeg4 maps it to a quantiser.
  int quality = 20;
  int threads = 2;
};

class VideoWriter {
 public:
  VideoWriter();
  // Opens at once. The container comes from the file extension (.mp4, .mkv, .avi, .mov).
  // Odd width/height are padded by one pixel (edge replicated) because yuv420p needs even sizes.
  VideoWriter(const std::filesystem::path& path, int width, int height, const VideoWriterOptions& options = {});
  VideoWriter(VideoWriter&&) noexcept;
  VideoWriter& operator=(VideoWriter&&) noexcept;
  // Finishes the file like close() but swallows errors: call close() to see them.
  ~VideoWriter();

  void open(const std::filesystem::path& path, int width, int height, const VideoWriterOptions& options = {});
  // Encodes one frame; it must have the size given to open(). RGB and BGR views are both accepted;
  // NV12 is refused (kUnsupported).
  Status write(ConstImageView image);
  // Flushes the encoder and writes the trailer. Throws facepipe::Error on failure. Idempotent.
  void close();

  bool is_open() const;
  const std::string& codec_name() const;  // encoder in use, e.g. "libx264"
  int encoded_width() const;               // after even-size padding
  int encoded_height() const;
  int64_t frames_written() const;

  // Whether this FFmpeg build has an encoder by that name (e.g. "libx264").
  static bool has_encoder(const std::string& name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe::media
