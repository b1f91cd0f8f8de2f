#include "media/video_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

extern "C" {
#include <libavutil/opt.h>
}

#include "media/ffmpeg_util.h"

namespace facepipe::media {

namespace {

using namespace detail;

struct OutputDeleter {
  void operator()(AVFormatContext* oc) const {
    if (oc->pb && !(oc->oformat->flags & AVFMT_NOFILE)) avio_closep(&oc->pb);
    avformat_free_context(oc);
  }
};
using OutputPtr = std::unique_ptr<AVFormatContext, OutputDeleter>;

// Copies src into the top-left of dst (one pixel larger on odd axes), replicating the last column and
// row so that the padding does not bleed a black edge into the chroma of the border pixels.
void pad_copy(ConstImageView src, Image& dst) {
  const size_t row_bytes = static_cast<size_t>(src.width) * 3;
  for (int y = 0; y < dst.height(); ++y) {
    const uint8_t* in = src.row(std::min(y, src.height - 1));
    uint8_t* out = dst.row(y);
    std::memcpy(out, in, row_bytes);
    for (int x = src.width; x < dst.width(); ++x) std::memcpy(out + 3 * x, in + row_bytes - 3, 3);
  }
}

}  // namespace

struct VideoWriter::Impl {
  std::string name;
  std::string codec;
  OutputPtr output;
  CodecContextPtr encoder;
  AVStream* stream = nullptr;
  FramePtr frame;
  PacketPtr packet;
  SwsPtr sws;
  PixelFormat sws_source_format = PixelFormat::kRGB8;
  Image padded;  // only for odd sizes
  int width = 0, height = 0;
  int64_t frames = 0;
  bool header_written = false;
  bool closed = false;

  // Moves every packet the encoder has ready into the file.
  int drain_packets() {
    for (;;) {
      int rc = avcodec_receive_packet(encoder.get(), packet.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
      if (rc < 0) return rc;
      av_packet_rescale_ts(packet.get(), encoder->time_base, stream->time_base);
      packet->stream_index = stream->index;
      rc = av_interleaved_write_frame(output.get(), packet.get());  // takes the packet's reference
      if (rc < 0) return rc;
    }
  }
};

VideoWriter::VideoWriter() = default;
VideoWriter::VideoWriter(const std::filesystem::path& path, int width, int height, const VideoWriterOptions& options) {
  open(path, width, height, options);
}
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&& other) noexcept {
  if (this != &other) {
    try {
      close();
    } catch (...) {
    }
    impl_ = std::move(other.impl_);
  }
  return *this;
}
VideoWriter::~VideoWriter() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report; callers who care call close() themselves.
  }
}

bool VideoWriter::has_encoder(const std::string& name) { return avcodec_find_encoder_by_name(name.c_str()) != nullptr; }

void VideoWriter::open(const std::filesystem::path& path, int width, int height, const VideoWriterOptions& options) {
  close();
  auto s = std::make_unique<Impl>();
  s->name = path.string();
  const std::string& name = s->name;
  if (width <= 0 || height <= 0 || width > (1 << 15) || height > (1 << 15)) {
    throw Error(name + ": invalid video size " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (!(options.fps > 0 && options.fps <= 1000)) throw Error(name + ": invalid frame rate " + std::to_string(options.fps));
  quiet_ffmpeg_log();

  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, nullptr, name.c_str());
  if (rc < 0 || !raw) throw Error(name + ": no video container for this file extension (" + av_error_string(rc) + ")");
  s->output.reset(raw);

  std::string codec_name = options.codec;
  if (codec_name.empty()) codec_name = has_encoder("libx264") ? "libx264" : "mpeg4";
  const AVCodec* codec = avcodec_find_encoder_by_name(codec_name.c_str());
  if (!codec) throw Error(name + ": this FFmpeg build has no '" + codec_name + "' encoder");
  s->codec = codec->name;

  s->width = width;
  s->height = height;
  s->encoder.reset(avcodec_alloc_context3(codec));
  if (!s->encoder) throw Error(name + ": out of memory allocating the encoder");
  AVCodecContext* enc = s->encoder.get();
  // yuv420p halves chroma in both directions, so most encoders need even sizes.
  enc->width = width + (width & 1);
  enc->height = height + (height & 1);
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  const AVRational rate = av_d2q(options.fps, 100000);
  enc->framerate = rate;
  enc->time_base = av_inv_q(rate);
  enc->gop_size = std::max(1, static_cast<int>(std::lround(options.fps * 2)));  // a key frame every 2 s
  enc->thread_count = options.threads;
  // BT.709 limited range, tagged: what browsers and players assume for untagged HD anyway.
  enc->colorspace = AVCOL_SPC_BT709;
  enc->color_primaries = AVCOL_PRI_BT709;
  enc->color_trc = AVCOL_TRC_BT709;
  enc->color_range = AVCOL_RANGE_MPEG;
  const int quality = std::clamp(options.quality, 0, 51);
  if (std::string(codec->name) == "libx264") {
    av_opt_set(enc->priv_data, "preset", "veryfast", 0);
    av_opt_set_int(enc->priv_data, "crf", quality, 0);
  } else {
    // Fixed quantiser for the MPEG-4 part 2 fallback: CRF 20 maps to q 3 (good quality).
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * std::clamp(1 + quality / 8, 1, 31);
  }
  if (s->output->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  rc = avcodec_open2(enc, codec, nullptr);
  if (rc < 0) throw Error(name + ": cannot open the " + codec_name + " encoder (" + av_error_string(rc) + ")");

  s->stream = avformat_new_stream(s->output.get(), nullptr);
  if (!s->stream) throw Error(name + ": out of memory adding a video stream");
  rc = avcodec_parameters_from_context(s->stream->codecpar, enc);
  if (rc < 0) throw Error(name + ": cannot set stream parameters (" + av_error_string(rc) + ")");
  s->stream->time_base = enc->time_base;
  s->stream->avg_frame_rate = rate;

  if (!(s->output->oformat->flags & AVFMT_NOFILE)) {
    rc = avio_open(&s->output->pb, name.c_str(), AVIO_FLAG_WRITE);
    if (rc < 0) throw Error(name + ": cannot create file (" + av_error_string(rc) + ")");
  }
  AVDictionary* mux_options = nullptr;
  // Index at the front: the overlay video starts playing in a browser before it is fully loaded.
  av_dict_set(&mux_options, "movflags", "+faststart", 0);
  rc = avformat_write_header(s->output.get(), &mux_options);
  av_dict_free(&mux_options);
  if (rc < 0) throw Error(name + ": cannot write the container header (" + av_error_string(rc) + ")");
  s->header_written = true;

  s->frame = make_frame();
  s->frame->format = enc->pix_fmt;
  s->frame->width = enc->width;
  s->frame->height = enc->height;
  rc = av_frame_get_buffer(s->frame.get(), 0);
  if (rc < 0) throw Error(name + ": out of memory for the frame buffer");
  s->packet = make_packet();
  if (enc->width != width || enc->height != height) s->padded.reset(enc->width, enc->height, PixelFormat::kRGB8);
  impl_ = std::move(s);
}

Status VideoWriter::write(ConstImageView image) {
  if (!impl_ || impl_->closed) return Status::error(StatusCode::kInvalidArgument, "VideoWriter is not open");
  Impl& s = *impl_;
  if (image.width != s.width || image.height != s.height || image.data == nullptr) {
    return Status::error(StatusCode::kInvalidArgument, "frame size differs from the size given to VideoWriter::open");
  }
  // Overlay videos are drawn on packed frames; an NV12 frame would be fed to swscale as RGB24.
  if (!is_packed_rgb(image.format))
    return Status::error(StatusCode::kUnsupported, "VideoWriter takes RGB8/BGR8 frames, not NV12 (convert_pixels first)");
  if (!s.sws || s.sws_source_format != image.format) {
    // Once, or when the caller switches between RGB and BGR.
    s.sws.reset(sws_getContext(s.encoder->width, s.encoder->height,
                               image.format == PixelFormat::kRGB8 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_BGR24,
                               s.encoder->width, s.encoder->height, AV_PIX_FMT_YUV420P,
                               SWS_BILINEAR | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
    if (!s.sws) return Status::error(StatusCode::kInternal, "cannot create the RGB to YUV converter");
    sws_setColorspaceDetails(s.sws.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1, sws_getCoefficients(SWS_CS_ITU709),
                             0, 0, 1 << 16, 1 << 16);
    s.sws_source_format = image.format;
  }
  ConstImageView source = image;
  if (!s.padded.empty()) {
    s.padded.set_format(image.format);
    pad_copy(image, s.padded);
    source = s.padded.view();
  }
  // The encoder may still reference the previous picture; then FFmpeg gives us a fresh buffer.
  if (av_frame_make_writable(s.frame.get()) < 0) return Status::error(StatusCode::kInternal, "out of memory");
  const uint8_t* src_planes[4] = {source.data, nullptr, nullptr, nullptr};
  const int src_strides[4] = {static_cast<int>(source.stride), 0, 0, 0};
  sws_scale(s.sws.get(), src_planes, src_strides, 0, source.height, s.frame->data, s.frame->linesize);
  s.frame->pts = s.frames;
  if (avcodec_send_frame(s.encoder.get(), s.frame.get()) < 0) {
    return Status::error(StatusCode::kInternal, "video encoder rejected the frame");
  }
  if (s.drain_packets() < 0) return Status::error(StatusCode::kUnavailable, "writing the video file failed");
  ++s.frames;
  return Status::ok();
}

void VideoWriter::close() {
  if (!impl_ || impl_->closed) return;
  Impl& s = *impl_;
  s.closed = true;
  int rc = avcodec_send_frame(s.encoder.get(), nullptr);  // flush delayed frames (x264 lookahead)
  if (rc >= 0) rc = s.drain_packets();
  if (rc >= 0 && s.header_written) rc = av_write_trailer(s.output.get());
  int close_rc = 0;
  if (s.output->pb && !(s.output->oformat->flags & AVFMT_NOFILE)) close_rc = avio_closep(&s.output->pb);
  if (rc < 0) throw Error(s.name + ": finishing the video failed (" + av_error_string(rc) + ")");
  if (close_rc < 0) throw Error(s.name + ": closing the video file failed (" + av_error_string(close_rc) + ")");
}

bool VideoWriter::is_open() const { return impl_ && !impl_->closed; }
const std::string& VideoWriter::codec_name() const {
  static const std::string kNone;
  return impl_ ? impl_->codec : kNone;
}
int VideoWriter::encoded_width() const { return impl_ ? impl_->encoder->width : 0; }
int VideoWriter::encoded_height() const { return impl_ ? impl_->encoder->height : 0; }
int64_t VideoWriter::frames_written() const { return impl_ ? impl_->frames : 0; }

}  // namespace facepipe::media
