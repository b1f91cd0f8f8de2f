// Internal to src/media: RAII owners for FFmpeg handles and error formatting. Not a public API.
#pragma once

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

namespace facepipe::media::detail {

// FFmpeg frees through pointer-to-pointer functions; wrap each once so that unique_ptr can own it.
struct FormatInputDeleter { void operator()(AVFormatContext* p) const { avformat_close_input(&p); } };
struct CodecContextDeleter { void operator()(AVCodecContext* p) const { avcodec_free_context(&p); } };
struct FrameDeleter { void operator()(AVFrame* p) const { av_frame_free(&p); } };
struct PacketDeleter { void operator()(AVPacket* p) const { av_packet_free(&p); } };
struct SwsDeleter { void operator()(SwsContext* p) const { sws_freeContext(p); } };

using FormatInputPtr = std::unique_ptr<AVFormatContext, FormatInputDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

// av_strerror text, e.g. "Invalid data found when processing input".
std::string av_error_string(int errnum);

FramePtr make_frame();    // throws facepipe::Error when out of memory
PacketPtr make_packet();

// Silences FFmpeg's own stderr logging (except fatal) once per process, unless somebody already
// changed the level: we report problems through facepipe::Error / Status, and a log line per
// corrupt JPEG row or H.264 slice helps nobody. An app can raise it with av_log_set_level.
void quiet_ffmpeg_log();
// The last error FFmpeg logged on this thread as ": <text>" (empty when none), then forgets it;
// clear_ffmpeg_message() before an operation so that a stale message is not quoted.
std::string ffmpeg_message_suffix();
void clear_ffmpeg_message();

// The yuvj* formats are deprecated aliases meaning "full range"; swscale wants the plain format
// plus an explicit range, or it prints a warning per context.
AVPixelFormat dejpeg_pixel_format(AVPixelFormat format, bool* full_range);

// A swscale context converting (w, h, src_format) to RGB24/BGR24 (full range) or NV12 (limited
// range) at the same size with the colour matrix and range the frame declares. Reuses `ctx` when
// its parameters still match.
struct SwsKey {
  int width = 0, height = 0;
  int src_format = -1;
  int dst_format = -1;
  int colorspace = -1;
  int range = -1;
  int chroma_location = -1;
  bool accurate = true;
  bool operator==(const SwsKey&) const = default;
};
// accurate: interpolated chroma and exact rounding (about 2x the CPU of the fast path, which
// replicates chroma samples and uses swscale's SIMD yuv2rgb).
void ensure_rgb_converter(SwsPtr& ctx, SwsKey& current, const AVFrame& frame, AVPixelFormat dst_format,
                          bool accurate = true);

// Opens `url` (a path or any URL FFmpeg understands) and picks its best video stream. Throws
// facepipe::Error "<url>: <cause>". `options` (may be null) are demuxer/protocol options;
// `interrupt` (may be null) lets the caller abort blocking I/O; `probe_streams` runs
// avformat_find_stream_info (frame rate, pixel format) at the cost of reading ahead a little.
struct OpenedInput {
  FormatInputPtr format;
  int stream_index = -1;
};
// V4L2 cameras ("/dev/videoN[?v4l2 options]") go through libavdevice's v4l2 demuxer; a build
// without libavdevice says so in the error.
bool is_v4l2_device(const std::string& source);
const AVInputFormat* v4l2_input_format(const std::string& source);  // throws facepipe::Error
OpenedInput open_video_input(const std::string& url, AVDictionary** options, const AVIOInterruptCB* interrupt = nullptr,
                             bool probe_streams = false);

// Opens a decoder for `stream`. threads = 0 lets FFmpeg choose. `strict` turns on
// AV_EF_EXPLODE: corrupt or truncated data becomes an error instead of a concealed picture.
CodecContextPtr open_decoder(const std::string& url, const AVStream& stream, int threads, bool strict);

// Receives the next decoded frame of stream `stream_index`: reads packets and feeds the decoder as
// needed, drains it at end of input. Returns 0 (frame filled), AVERROR_EOF (no more frames) or
// another negative error from the demuxer or decoder. A decoder error on one packet is returned
// once; calling again continues with the next packet. `draining` must start false.
// `demuxer_error` (may be null) tells whether a negative result came from reading, not decoding.
int next_decoded_frame(AVFormatContext* format, AVCodecContext* decoder, int stream_index, AVPacket* packet,
                       AVFrame* frame, bool* draining, bool* demuxer_error = nullptr);

}  // namespace facepipe::media::detail
