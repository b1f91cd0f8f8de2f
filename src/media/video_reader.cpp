#include "media/video_reader.h"

#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <mutex>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

#include "media/ffmpeg_util.h"

namespace facepipe::media {

namespace {

using namespace detail;
using Clock = std::chrono::steady_clock;

bool is_network_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  return scheme_end != std::string::npos && url.compare(0, scheme_end, "file") != 0;
}

// Clockwise turn needed for display, from the stream's display matrix, as an EXIF orientation.
int rotation_degrees_of(const AVStream& stream) {
  size_t size = 0;
  const uint8_t* matrix = av_stream_get_side_data(&stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (!matrix || size < 9 * sizeof(int32_t)) return 0;
  // av_display_rotation_get gives the counter-clockwise angle the matrix applies; we undo it.
  const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (std::isnan(ccw)) return 0;
  long degrees = std::lround(-ccw / 90.0) * 90 % 360;
  if (degrees < 0) degrees += 360;
  return static_cast<int>(degrees);
}

int orientation_for_rotation(int degrees) {
  switch (degrees) {
    case 90: return 6;
    case 180: return 3;
    case 270: return 8;
    default: return 1;
  }
}

}  // namespace

struct VideoReader::Impl {
  std::string url;
  VideoReaderOptions options;
  VideoStreamInfo info;
  FormatInputPtr format;
  int stream_index = -1;
  AVStream* stream = nullptr;
  CodecContextPtr decoder;
  FramePtr frame;
  PacketPtr packet;
  SwsPtr sws;
  SwsKey sws_key;
  Image unrotated;  // swscale output when the frame still has to be turned
  int orientation = 1;
  double frame_ms = 1000.0 / 30.0;  // used only to estimate missing timestamps
  bool draining = false;
  bool finished = false;
  int64_t next_index = 0;
  int64_t start_pts = AV_NOPTS_VALUE;
  int64_t last_ms = INT64_MIN;
  int64_t decode_errors = 0;
  Clock::time_point io_deadline = Clock::time_point::max();

  // Called by FFmpeg inside blocking I/O: non-zero aborts it. Allocation-free.
  static int interrupt(void* opaque) {
    const auto* self = static_cast<const Impl*>(opaque);
    if (self->options.abort_flag && self->options.abort_flag->load(std::memory_order_relaxed)) return 1;
    return Clock::now() > self->io_deadline ? 1 : 0;
  }
  void arm_deadline() {
    io_deadline = options.io_timeout_ms > 0 ? Clock::now() + std::chrono::milliseconds(options.io_timeout_ms)
                                            : Clock::time_point::max();
  }

  void open(const std::string& source, const VideoReaderOptions& opts);
  Status convert(VideoFrame& out);
  Status convert_nv12(Image& target);
  void stamp(VideoFrame& out);
};

void VideoReader::Impl::open(const std::string& source, const VideoReaderOptions& opts) {
  url = source;
  options = opts;
  static std::once_flag network_once;
  std::call_once(network_once, [] { avformat_network_init(); });

  AVDictionary* dict = nullptr;
  if (is_network_url(url) && options.io_timeout_ms > 0) {
    // Protocol-level timeout in microseconds, on top of our interrupt deadline.
    av_dict_set_int(&dict, "rw_timeout", int64_t{options.io_timeout_ms} * 1000, 0);
  }
  const AVIOInterruptCB callback{&Impl::interrupt, this};
  arm_deadline();
  OpenedInput input;
  try {
    input = open_video_input(url, &dict, &callback, /*probe_streams=*/true);
  } catch (...) {
    av_dict_free(&dict);
    throw;
  }
  av_dict_free(&dict);
  format = std::move(input.format);
  stream_index = input.stream_index;
  stream = format->streams[stream_index];
  // Other streams (audio, subtitles) are dropped by the demuxer instead of being read and skipped.
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    if (static_cast<int>(i) != stream_index) format->streams[i]->discard = AVDISCARD_ALL;
  }
  decoder = open_decoder(url, *stream, options.decoder_threads, /*strict=*/false);
  frame = make_frame();
  packet = make_packet();

  info = {};
  info.coded_width = stream->codecpar->width;
  info.coded_height = stream->codecpar->height;
  if (info.coded_width <= 0 || info.coded_height <= 0) throw Error(url + ": video stream has no frame size");
  const AVRational rate = av_guess_frame_rate(format.get(), stream, nullptr);
  info.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
  if (info.fps > 0) frame_ms = 1000.0 / info.fps;
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    info.duration_seconds = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
  } else if (format->duration != AV_NOPTS_VALUE && format->duration > 0) {
    info.duration_seconds = static_cast<double>(format->duration) / AV_TIME_BASE;
  }
  if (stream->nb_frames > 0) {
    info.frame_count_estimate = stream->nb_frames;
  } else if (info.duration_seconds > 0 && info.fps > 0) {
    info.frame_count_estimate = std::llround(info.duration_seconds * info.fps);
  }
  info.codec_name = avcodec_get_name(stream->codecpar->codec_id);
  info.container = format->iformat->name;
  const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(stream->codecpar->format));
  info.source_pixel_format = pix ? pix : "unknown";
  info.rotation_degrees = rotation_degrees_of(*stream);
  orientation = options.apply_rotation ? orientation_for_rotation(info.rotation_degrees) : 1;
  info.rotation_applied = orientation != 1;
  const bool swap = orientation_swaps_axes(orientation);
  info.width = swap ? info.coded_height : info.coded_width;
  info.height = swap ? info.coded_width : info.coded_height;
}

Status VideoReader::Impl::convert(VideoFrame& out) {
  const AVFrame& f = *frame;
  if (f.width <= 0 || f.height <= 0 || f.width > (1 << 15) || f.height > (1 << 15)) {
    return Status::error(StatusCode::kInvalidArgument, "decoded frame has an invalid size");
  }
  if (options.format == PixelFormat::kNV12) {
    try {
      // Allocates only on the first frame or when the stream changes size.
      const bool swap = orientation_swaps_axes(orientation);
      out.image.reset(swap ? f.height : f.width, swap ? f.width : f.height, PixelFormat::kNV12);
      if (orientation != 1) unrotated.reset(f.width, f.height, PixelFormat::kNV12);
    } catch (const std::exception&) {
      return Status::error(StatusCode::kInvalidArgument, "decoded frame has an invalid size");
    }
    Image& target = orientation == 1 ? out.image : unrotated;
    FACEPIPE_RETURN_IF_ERROR(convert_nv12(target));
    if (orientation != 1) orient_pixels(unrotated.view(), orientation, out.image.view());
    return Status::ok();
  }
  const AVPixelFormat dst = options.format == PixelFormat::kRGB8 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_BGR24;
  try {
    // Allocates only on the first frame or when the stream changes size or pixel format.
    ensure_rgb_converter(sws, sws_key, f, dst, options.accurate_color);
    const bool swap = orientation_swaps_axes(orientation);
    out.image.reset(swap ? f.height : f.width, swap ? f.width : f.height, options.format);
    if (orientation != 1) unrotated.reset(f.width, f.height, options.format);
  } catch (const std::exception&) {
    return Status::error(StatusCode::kUnsupported, "cannot convert this video's pixel format to RGB");
  }
  Image& target = orientation == 1 ? out.image : unrotated;
  uint8_t* planes[4] = {target.data(), nullptr, nullptr, nullptr};
  const int strides[4] = {static_cast<int>(target.stride()), 0, 0, 0};
  if (sws_scale(sws.get(), f.data, f.linesize, 0, f.height, planes, strides) != f.height) {
    return Status::error(StatusCode::kInternal, "pixel conversion to RGB failed");
  }
  if (orientation != 1) orient_pixels(unrotated.view(), orientation, out.image.view());
  return Status::ok();
}

// The decoded frame as NV12 in `target` (already the frame's size). What decoders of H.264/HEVC/VP9
// and most cameras give, limited-range 4:2:0 (yuv420p or nv12), is copied as it is: the planes are
// the decoder's own, byte for byte, and no conversion runs. Anything else (4:2:2 and 4:4:4 YUV,
// RGB, full-range "JPEG" YUV) goes through swscale to limited-range NV12, which is what the GPU
// pipeline reads. Allocation-free after the first frame (the swscale context is kept).
Status VideoReader::Impl::convert_nv12(Image& target) {
  const AVFrame& f = *frame;
  const auto src = static_cast<AVPixelFormat>(f.format);
  const bool limited = f.color_range != AVCOL_RANGE_JPEG;
  const int w = f.width, h = f.height;
  const int cw = nv12_chroma_width(w), ch = nv12_chroma_height(h);
  if (limited && (src == AV_PIX_FMT_YUV420P || src == AV_PIX_FMT_NV12)) {
    for (int y = 0; y < h; ++y)
      std::memcpy(target.row(y), f.data[0] + static_cast<ptrdiff_t>(y) * f.linesize[0], static_cast<size_t>(w));
    if (src == AV_PIX_FMT_NV12) {
      for (int cy = 0; cy < ch; ++cy)
        std::memcpy(target.uv_row(cy), f.data[1] + static_cast<ptrdiff_t>(cy) * f.linesize[1],
                    static_cast<size_t>(cw) * 2);
      return Status::ok();
    }
    // yuv420p: interleave the U and V planes (FFmpeg's chroma planes are ceil(w/2) x ceil(h/2) too).
    for (int cy = 0; cy < ch; ++cy) {
      const uint8_t* u = f.data[1] + static_cast<ptrdiff_t>(cy) * f.linesize[1];
      const uint8_t* v = f.data[2] + static_cast<ptrdiff_t>(cy) * f.linesize[2];
      uint8_t* uv = target.uv_row(cy);
      for (int cx = 0; cx < cw; ++cx) {
        uv[2 * cx] = u[cx];
        uv[2 * cx + 1] = v[cx];
      }
    }
    return Status::ok();
  }
  try {
    ensure_rgb_converter(sws, sws_key, f, AV_PIX_FMT_NV12, options.accurate_color);
  } catch (const std::exception&) {
    return Status::error(StatusCode::kUnsupported, "cannot convert this video's pixel format to NV12");
  }
  uint8_t* planes[4] = {target.data(), target.uv_plane(), nullptr, nullptr};
  const int strides[4] = {static_cast<int>(target.stride()), static_cast<int>(target.uv_stride()), 0, 0};
  if (sws_scale(sws.get(), f.data, f.linesize, 0, h, planes, strides) != h)
    return Status::error(StatusCode::kInternal, "pixel conversion to NV12 failed");
  return Status::ok();
}

// Timestamp policy: best_effort_timestamp (FFmpeg's guess from pts/dts), else pts, in ms relative to
// the stream start. Missing or non-increasing values are replaced by previous + one frame duration,
// so consumers (trackers, filters) can rely on strictly increasing time.
void VideoReader::Impl::stamp(VideoFrame& out) {
  int64_t ts = frame->best_effort_timestamp;
  if (ts == AV_NOPTS_VALUE) ts = frame->pts;
  out.pts = ts == AV_NOPTS_VALUE ? INT64_MIN : ts;
  out.timestamp_estimated = false;
  int64_t ms;
  const int64_t step = std::max<int64_t>(1, std::llround(frame_ms));
  if (ts != AV_NOPTS_VALUE) {
    if (start_pts == AV_NOPTS_VALUE) {
      start_pts = (stream->start_time != AV_NOPTS_VALUE && stream->start_time <= ts) ? stream->start_time : ts;
    }
    ms = av_rescale_q(ts - start_pts, stream->time_base, AVRational{1, 1000});
  } else {
    ms = last_ms == INT64_MIN ? 0 : last_ms + step;
    out.timestamp_estimated = true;
  }
  if (last_ms != INT64_MIN && ms <= last_ms) {
    ms = last_ms + step;
    out.timestamp_estimated = true;
  }
  out.timestamp_ms = ms;
  last_ms = ms;
}

VideoReader::VideoReader() = default;
VideoReader::VideoReader(const std::string& path_or_url, const VideoReaderOptions& options) {
  open(path_or_url, options);
}
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;
VideoReader::~VideoReader() = default;

void VideoReader::open(const std::string& path_or_url, const VideoReaderOptions& options) {
  auto fresh = std::make_unique<Impl>();
  fresh->open(path_or_url, options);
  impl_ = std::move(fresh);
}

void VideoReader::close() { impl_.reset(); }
bool VideoReader::is_open() const { return impl_ != nullptr; }

const VideoStreamInfo& VideoReader::info() const {
  static const VideoStreamInfo kEmpty;
  return impl_ ? impl_->info : kEmpty;
}

int64_t VideoReader::decode_errors() const { return impl_ ? impl_->decode_errors : 0; }

Status VideoReader::read(VideoFrame& out) {
  if (!impl_) return Status::error(StatusCode::kInvalidArgument, "VideoReader is not open");
  Impl& s = *impl_;
  if (s.finished) return Status::error(StatusCode::kOutOfRange, "end of stream");
  int consecutive_errors = 0;
  for (;;) {
    s.arm_deadline();
    bool demuxer_error = false;
    const int rc = next_decoded_frame(s.format.get(), s.decoder.get(), s.stream_index, s.packet.get(), s.frame.get(),
                                      &s.draining, &demuxer_error);
    if (rc == 0) break;
    if (rc == AVERROR_EOF) {
      s.finished = true;
      return Status::error(StatusCode::kOutOfRange, "end of stream");
    }
    if (demuxer_error && (rc == AVERROR_EXIT || rc == AVERROR(EIO) || rc == AVERROR(ETIMEDOUT))) {
      s.finished = true;
      return Status::error(StatusCode::kUnavailable, "video source stopped delivering data (I/O error or timeout)");
    }
    // Corrupt packet (decoder) or unparsable data (demuxer): skip it, as players do, within a limit.
    ++s.decode_errors;
    if (++consecutive_errors > s.options.max_consecutive_errors) {
      s.finished = true;
      return Status::error(StatusCode::kInvalidArgument, "too many consecutive decode errors: corrupt video");
    }
  }
  const Status converted = s.convert(out);
  if (converted) {
    s.stamp(out);
    out.index = s.next_index++;
  }
  av_frame_unref(s.frame.get());  // hand the decoder its buffer back (frame pools, no allocation)
  return converted;
}

Status VideoReader::seek_to_start() {
  if (!impl_) return Status::error(StatusCode::kInvalidArgument, "VideoReader is not open");
  Impl& s = *impl_;
  if (s.format->pb && !(s.format->pb->seekable & AVIO_SEEKABLE_NORMAL)) {
    return Status::error(StatusCode::kUnsupported, "video source cannot seek (live stream)");
  }
  const int64_t target = s.stream->start_time != AV_NOPTS_VALUE ? s.stream->start_time : 0;
  s.arm_deadline();
  if (av_seek_frame(s.format.get(), s.stream_index, target, AVSEEK_FLAG_BACKWARD) < 0 &&
      av_seek_frame(s.format.get(), -1, 0, AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_BYTE) < 0) {
    return Status::error(StatusCode::kUnsupported, "video source cannot seek");
  }
  // Drop frames held inside the decoder (B-frame reordering, threads) and leave draining mode.
  avcodec_flush_buffers(s.decoder.get());
  s.draining = false;
  s.finished = false;
  s.next_index = 0;
  s.last_ms = INT64_MIN;
  return Status::ok();
}

}  // namespace facepipe::media
