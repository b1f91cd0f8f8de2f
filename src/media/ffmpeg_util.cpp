#include "media/ffmpeg_util.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

extern "C" {
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#if FACEPIPE_HAVE_AVDEVICE
#include <libavdevice/avdevice.h>
#endif
}

#include "common/status.h"

namespace facepipe::media::detail {

std::string av_error_string(int errnum) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(errnum, text, sizeof(text));
  return text;
}

FramePtr make_frame() {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw Error("FFmpeg: out of memory allocating a frame");
  return frame;
}

PacketPtr make_packet() {
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw Error("FFmpeg: out of memory allocating a packet");
  return packet;
}

namespace {

// The last error FFmpeg logged on this thread, so that our exceptions can quote the decoder's own
// explanation ("No JPEG data found in image"). Fixed-size: logging must not allocate.
thread_local char t_last_message[256];

void log_callback(void* avcl, int level, const char* fmt, va_list args) {
  if (level <= AV_LOG_ERROR) {
    va_list copy;
    va_copy(copy, args);
    std::vsnprintf(t_last_message, sizeof(t_last_message), fmt, copy);
    va_end(copy);
    const size_t n = std::strlen(t_last_message);
    if (n > 0 && t_last_message[n - 1] == '\n') t_last_message[n - 1] = '\0';
  }
  if (level <= av_log_get_level()) av_log_default_callback(avcl, level, fmt, args);
}

}  // namespace

void quiet_ffmpeg_log() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Respect a level somebody set on purpose (e.g. an app flag raising it to debug).
    if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_QUIET);
    av_log_set_callback(&log_callback);
  });
}

void clear_ffmpeg_message() { t_last_message[0] = '\0'; }

std::string ffmpeg_message_suffix() {
  if (t_last_message[0] == '\0') return "";
  std::string suffix = std::string(": ") + t_last_message;
  clear_ffmpeg_message();
  return suffix;
}

AVPixelFormat dejpeg_pixel_format(AVPixelFormat format, bool* full_range) {
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: *full_range = true; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full_range = true; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full_range = true; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full_range = true; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full_range = true; return AV_PIX_FMT_YUV411P;
    default: return format;
  }
}

void ensure_rgb_converter(SwsPtr& ctx, SwsKey& current, const AVFrame& frame, AVPixelFormat dst_format,
                          bool accurate) {
  bool full_range = frame.color_range == AVCOL_RANGE_JPEG;
  const AVPixelFormat src_format = dejpeg_pixel_format(static_cast<AVPixelFormat>(frame.format), &full_range);
  // Range only has meaning for YUV; swscale treats gray as luma, so a gray PNG must be declared full
  // range or 0..255 would be stretched as if it were 16..235.
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(src_format);
  if (!desc) throw Error("FFmpeg: decoder produced an unknown pixel format");
  const bool is_yuv = !(desc->flags & AV_PIX_FMT_FLAG_RGB) && !(desc->flags & AV_PIX_FMT_FLAG_PAL) &&
                      desc->nb_components >= 3;
  if (!is_yuv) full_range = true;
  SwsKey key{frame.width, frame.height, src_format, dst_format, frame.colorspace, full_range ? 1 : 0,
             frame.chroma_location, accurate};
  if (ctx && key == current) return;
  ctx.reset();
  current = {};

  SwsPtr fresh(sws_alloc_context());
  if (!fresh) throw Error("FFmpeg: out of memory allocating a swscale context");
  // Same size, so the only resampling is chroma upsampling. Bilinear with full horizontal chroma
  // interpolation and accurate rounding is the closest swscale gets to libjpeg's "fancy"
  // (triangle) upsampling; the default (bicubic, no full_chr_h_int) differs visibly at edges.
  const int flags = accurate ? SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP : SWS_BILINEAR;
  av_opt_set_int(fresh.get(), "srcw", frame.width, 0);
  av_opt_set_int(fresh.get(), "srch", frame.height, 0);
  av_opt_set_int(fresh.get(), "src_format", src_format, 0);
  av_opt_set_int(fresh.get(), "dstw", frame.width, 0);
  av_opt_set_int(fresh.get(), "dsth", frame.height, 0);
  av_opt_set_int(fresh.get(), "dst_format", dst_format, 0);
  av_opt_set_int(fresh.get(), "sws_flags", flags, 0);
  // Where the chroma samples sit (JPEG: centred; H.264: left). swscale assumes a default otherwise.
  // Only for subsampled axes: on a full-resolution axis an offset would shift chroma by half a pixel.
  int xpos = 0, ypos = 0;
  if (frame.chroma_location != AVCHROMA_LOC_UNSPECIFIED &&
      avcodec_enum_to_chroma_pos(&xpos, &ypos, frame.chroma_location) == 0) {
    if (desc->log2_chroma_w > 0) av_opt_set_int(fresh.get(), "src_h_chr_pos", xpos, 0);
    if (desc->log2_chroma_h > 0) av_opt_set_int(fresh.get(), "src_v_chr_pos", ypos, 0);
  }
  // NV12 output (VideoReader's GPU capture format) is limited range: that is how the GPU pipeline
  // reads it (BT.601 limited), so a full-range source is rescaled here rather than misread there.
  const bool dst_yuv = dst_format == AV_PIX_FMT_NV12;
  if (sws_init_context(fresh.get(), nullptr, nullptr) < 0) {
    throw Error(std::string("FFmpeg: cannot convert pixel format ") +
                (av_get_pix_fmt_name(src_format) ? av_get_pix_fmt_name(src_format) : "?") + " to " +
                (av_get_pix_fmt_name(dst_format) ? av_get_pix_fmt_name(dst_format) : "?"));
  }
  // Colour matrix: BT.601 unless the stream says otherwise (JPEG is always BT.601 full range).
  const int colorspace = (frame.colorspace == AVCOL_SPC_UNSPECIFIED || frame.colorspace == AVCOL_SPC_RGB)
                             ? SWS_CS_DEFAULT
                             : frame.colorspace;
  const int* coefficients = sws_getCoefficients(colorspace);
  sws_setColorspaceDetails(fresh.get(), coefficients, full_range ? 1 : 0, sws_getCoefficients(SWS_CS_DEFAULT),
                           dst_yuv ? 0 : 1, 0, 1 << 16, 1 << 16);
  ctx = std::move(fresh);
  current = key;
}

}  // namespace facepipe::media::detail

namespace facepipe::media::detail {

bool is_v4l2_device(const std::string& source) { return source.rfind("/dev/video", 0) == 0; }

const AVInputFormat* v4l2_input_format(const std::string& source) {
#if FACEPIPE_HAVE_AVDEVICE
  static std::once_flag once;
  std::call_once(once, [] { avdevice_register_all(); });
  const AVInputFormat* f = av_find_input_format("video4linux2");
  if (!f) throw Error(source + ": this FFmpeg's libavdevice has no V4L2 support");
  return f;
#else
  throw Error(source + ": V4L2 cameras need FFmpeg's libavdevice, which this build does not have");
#endif
}

OpenedInput open_video_input(const std::string& source, AVDictionary** options, const AVIOInterruptCB* interrupt,
                             bool probe_streams) {
  quiet_ffmpeg_log();
  // A V4L2 camera: "/dev/videoN", optionally "?input_format=mjpeg&video_size=1280x720&framerate=30"
  // (the v4l2 demuxer's options) to pick one of the device's modes.
  std::string url = source;
  const AVInputFormat* device_format = nullptr;
  if (is_v4l2_device(source)) {
    device_format = v4l2_input_format(source);
    const auto query = source.find('?');
    if (query != std::string::npos) {
      url = source.substr(0, query);
      if (options && av_dict_parse_string(options, source.c_str() + query + 1, "=", "&", 0) < 0)
        throw Error(source + ": bad device options (expected ?key=value&key=value)");
    }
  }
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw Error(url + ": out of memory allocating a demuxer");
  if (interrupt) raw->interrupt_callback = *interrupt;
  const int rc = avformat_open_input(&raw, url.c_str(), device_format, options);  // frees raw on failure
  if (rc < 0) {
    const std::string what = rc == AVERROR_INVALIDDATA ? "not a recognised image or video format" : "cannot open";
    throw Error(url + ": " + what + " (" + av_error_string(rc) + ffmpeg_message_suffix() + ")");
  }
  OpenedInput input;
  input.format.reset(raw);
  // The ANSI-art demuxer would happily render a text file as a picture; a text file is not an image.
  if (std::string(raw->iformat->name) == "tty") throw Error(url + ": text file, not an image or video");
  bool probed = false;
  if (probe_streams) {
    const int info_rc = avformat_find_stream_info(raw, nullptr);
    if (info_rc < 0) throw Error(url + ": cannot read stream parameters (" + av_error_string(info_rc) + ")");
    probed = true;
  }
  input.stream_index = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (input.stream_index < 0 && !probed) {
    // Some containers only describe their streams after probing a few packets.
    if (avformat_find_stream_info(raw, nullptr) >= 0) {
      input.stream_index = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    }
  }
  if (input.stream_index < 0) throw Error(url + ": no image or video stream in it");
  return input;
}

CodecContextPtr open_decoder(const std::string& url, const AVStream& stream, int threads, bool strict) {
  const AVCodec* codec = avcodec_find_decoder(stream.codecpar->codec_id);
  if (!codec) {
    throw Error(url + ": no decoder for codec '" + avcodec_get_name(stream.codecpar->codec_id) +
                "' in this FFmpeg build");
  }
  CodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) throw Error(url + ": out of memory allocating a decoder");
  int rc = avcodec_parameters_to_context(ctx.get(), stream.codecpar);
  if (rc < 0) throw Error(url + ": bad codec parameters (" + av_error_string(rc) + ")");
  ctx->pkt_timebase = stream.time_base;
  ctx->thread_count = threads;
  // The JPEG-reference integer IDCT is the "islow" IDCT of libjpeg/libjpeg-turbo, which browsers and
  // most image libraries use; FFmpeg's default "simple" IDCT differs by +-1 on some pixels.
  ctx->idct_algo = FF_IDCT_INT;
  if (strict) ctx->err_recognition |= AV_EF_EXPLODE;
  rc = avcodec_open2(ctx.get(), codec, nullptr);
  if (rc < 0) throw Error(url + ": cannot open the " + codec->name + " decoder (" + av_error_string(rc) + ")");
  return ctx;
}

int next_decoded_frame(AVFormatContext* format, AVCodecContext* decoder, int stream_index, AVPacket* packet,
                       AVFrame* frame, bool* draining, bool* demuxer_error) {
  if (demuxer_error) *demuxer_error = false;
  for (;;) {
    int rc = avcodec_receive_frame(decoder, frame);
    if (rc == 0 || rc == AVERROR_EOF) return rc;
    if (rc != AVERROR(EAGAIN)) return rc;
    if (*draining) return AVERROR_EOF;  // defensive: a drained decoder must not ask for input

    rc = av_read_frame(format, packet);
    if (rc == AVERROR_EOF || (rc < 0 && avio_feof(format->pb))) {
      // End of input (or a read error at the very end of a truncated file): flush the decoder.
      *draining = true;
      rc = avcodec_send_packet(decoder, nullptr);
      if (rc < 0 && rc != AVERROR_EOF) return rc;
      continue;
    }
    if (rc < 0) {
      if (demuxer_error) *demuxer_error = true;
      return rc;
    }
    if (packet->stream_index != stream_index) {
      av_packet_unref(packet);
      continue;
    }
    rc = avcodec_send_packet(decoder, packet);
    av_packet_unref(packet);
    // EAGAIN cannot happen here: we only send after receive asked for input.
    if (rc < 0) return rc;
  }
}

}  // namespace facepipe::media::detail
