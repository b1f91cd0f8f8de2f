#include "media/image_io.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

extern "C" {
#include <libavutil/dict.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include "common/status.h"
#include "media/ffmpeg_util.h"
#include "media/jfif_color.h"

namespace facepipe::media {

namespace {

namespace fs = std::filesystem;
using namespace detail;

void check_readable_file(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw Error(name + ": no such file");
  if (fs::is_directory(st)) throw Error(name + ": is a directory, not an image file");
  const auto size = fs::file_size(path, ec);
  if (!ec && size == 0) throw Error(name + ": empty file (0 bytes), not an image");
}

// Fills the "what was converted" part of DecodeInfo from the decoded frame's pixel format.
void describe_source(const AVFrame& frame, DecodeInfo& info) {
  const auto format = static_cast<AVPixelFormat>(frame.format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  if (!desc) return;
  info.source_pixel_format = desc->name;
  info.source_width = frame.width;
  info.source_height = frame.height;
  int depth = 0;
  for (int i = 0; i < desc->nb_components; ++i) depth = std::max(depth, desc->comp[i].depth);
  info.bits_per_component = depth;
  info.depth_reduced = depth > 8;
  const bool has_alpha = (desc->flags & AV_PIX_FMT_FLAG_ALPHA) != 0;
  if (desc->flags & AV_PIX_FMT_FLAG_PAL) {
    // FFmpeg labels every palette format as having alpha; look at the entries (0xAARRGGBB) to tell.
    info.palette_expanded = true;
    const auto* palette = reinterpret_cast<const uint32_t*>(frame.data[1]);
    bool transparent = false;
    for (int i = 0; palette && i < 256; ++i) transparent |= (palette[i] >> 24) != 0xFF;
    info.alpha_dropped = transparent;
    info.source_components = transparent ? 4 : 3;
    return;
  }
  info.source_components = desc->nb_components;
  info.alpha_dropped = has_alpha;
  const bool rgb = (desc->flags & AV_PIX_FMT_FLAG_RGB) != 0;
  const int colour_components = desc->nb_components - (has_alpha ? 1 : 0);
  info.grayscale_expanded = !rgb && colour_components == 1;
  info.yuv_converted = !rgb && colour_components >= 3;
}

// Gray/RGB(A) with more than 8 bits per component (16-bit PNG, TIFF): swscale's path rounds some
// values off by one (32896 -> 129), so scale exactly: v8 = round(v * 255 / (2^depth - 1)).
bool is_deep_rgb_or_gray(const AVFrame& frame) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_BITSTREAM |
                               AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BAYER))) {
    return false;
  }
  const bool rgb = (desc->flags & AV_PIX_FMT_FLAG_RGB) != 0;
  const int colour = desc->nb_components - ((desc->flags & AV_PIX_FMT_FLAG_ALPHA) ? 1 : 0);
  if (!(rgb && colour == 3) && !(!rgb && colour == 1)) return false;
  const int depth = desc->comp[0].depth;
  for (int i = 0; i < desc->nb_components; ++i) {
    if (desc->comp[i].depth != depth) return false;
  }
  return depth > 8 && depth <= 16;
}

void deep_to_rgb8(const AVFrame& frame, ImageView dst) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  const bool gray = !(desc->flags & AV_PIX_FMT_FLAG_RGB);
  const uint32_t max_value = (1u << desc->comp[0].depth) - 1;
  // Descriptor components are in logical order (R, G, B or Y) whatever the memory layout.
  const int order[3] = {dst.format == PixelFormat::kRGB8 ? 0 : 2, 1, dst.format == PixelFormat::kRGB8 ? 2 : 0};
  std::vector<uint32_t> line(static_cast<size_t>(frame.width));
  for (int y = 0; y < frame.height; ++y) {
    uint8_t* out = dst.row(y);
    for (int c = 0; c < 3; ++c) {
      const int component = gray ? 0 : order[c];
      av_read_image_line2(line.data(), const_cast<const uint8_t**>(frame.data), frame.linesize, desc, 0, y,
                          component, frame.width, 0, 4);
      for (int x = 0; x < frame.width; ++x) {
        out[3 * x + c] = static_cast<uint8_t>((line[x] * 255u + max_value / 2) / max_value);
      }
    }
  }
}

int exif_orientation_of(const AVFrame& frame) {
  // FFmpeg's JPEG decoder exports EXIF IFD0 tags as frame metadata by tag name.
  const AVDictionaryEntry* entry = av_dict_get(frame.metadata, "Orientation", nullptr, 0);
  if (!entry || !entry->value) return 1;
  const int value = std::atoi(entry->value);
  return value >= 1 && value <= 8 ? value : 1;
}

// Decodes the first frame; returns the FFmpeg error instead of throwing so the caller can word it.
struct FirstFrame {
  FramePtr frame = make_frame();
  int error = 0;
  bool more_frames = false;
  std::string container, codec;
};

FirstFrame decode_first_frame(const std::string& name, bool strict) {
  FirstFrame result;
  OpenedInput input = open_video_input(name, nullptr);
  const AVStream& stream = *input.format->streams[input.stream_index];
  result.container = input.format->iformat->name;
  result.codec = avcodec_get_name(stream.codecpar->codec_id);
  CodecContextPtr decoder = open_decoder(name, stream, 1, strict);
  PacketPtr packet = make_packet();
  bool draining = false;
  result.error = next_decoded_frame(input.format.get(), decoder.get(), input.stream_index, packet.get(),
                                    result.frame.get(), &draining);
  if (result.error == 0 && strict &&
      (result.frame->decode_error_flags != 0 || (result.frame->flags & AV_FRAME_FLAG_CORRUPT))) {
    result.error = AVERROR_INVALIDDATA;
  }
  if (result.error == 0 && !draining) {
    // Another packet of the same stream means an animation or a video: we keep only frame one.
    while (av_read_frame(input.format.get(), packet.get()) >= 0) {
      const bool ours = packet->stream_index == input.stream_index;
      av_packet_unref(packet.get());
      if (ours) {
        result.more_frames = true;
        break;
      }
    }
  }
  return result;
}

}  // namespace

std::string DecodeInfo::summary() const {
  std::string s = codec + " " + source_pixel_format + " " + std::to_string(bits_per_component) + "-bit " +
                  std::to_string(source_components) + "ch " + std::to_string(source_width) + "x" +
                  std::to_string(source_height) + " -> 8-bit RGB";
  std::string changes;
  auto add = [&changes](bool flag, std::string_view what) {
    if (!flag) return;
    changes += changes.empty() ? ": " : ", ";
    changes += what;
  };
  add(yuv_converted, "YCbCr converted");
  add(grayscale_expanded, "gray expanded");
  add(palette_expanded, "palette expanded");
  add(alpha_dropped, "alpha dropped");
  add(depth_reduced, "depth reduced to 8 bits");
  add(orientation_applied, "EXIF orientation " + std::to_string(exif_orientation) + " applied");
  add(first_frame_only, "first frame only");
  add(partial, "PARTIAL (corrupt data)");
  return s + changes;
}

Image decode_image_file(const fs::path& path, DecodeInfo* info, const DecodeOptions& options) {
  const std::string name = path.string();
  check_readable_file(path);
  quiet_ffmpeg_log();
  clear_ffmpeg_message();

  FirstFrame first = decode_first_frame(name, /*strict=*/true);
  bool partial = false;
  if (first.error < 0 && first.error != AVERROR_EOF && options.allow_partial) {
    // Retry leniently: the decoder conceals what it cannot decode.
    first = decode_first_frame(name, /*strict=*/false);
    partial = true;
  }
  if (first.error == AVERROR_EOF) {
    throw Error(name + ": no picture in it (" + first.codec + " data ended early" + ffmpeg_message_suffix() + ")");
  }
  if (first.error < 0) {
    throw Error(name + ": corrupt or truncated " + first.codec + " data, or not " + first.codec + " at all (" + av_error_string(first.error) +
                ffmpeg_message_suffix() + ")");
  }
  const AVFrame& frame = *first.frame;
  if (frame.width <= 0 || frame.height <= 0) {
    throw Error(name + ": image has zero size (" + std::to_string(frame.width) + "x" + std::to_string(frame.height) + ")");
  }

  DecodeInfo local;
  local.container = first.container;
  local.codec = first.codec;
  local.first_frame_only = first.more_frames;
  local.partial = partial;
  describe_source(frame, local);
  local.exif_orientation = exif_orientation_of(frame);

  // Stills are decoded for the CPU paths (tools, image-folder cameras), which work on packed pixels.
  if (!is_packed_rgb(options.format)) throw Error(name + ": images decode to RGB8 or BGR8, not NV12");
  Image decoded;
  try {
    decoded.reset(frame.width, frame.height, options.format);
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
  if (jfif_convertible(frame)) {
    jfif_to_rgb(frame, decoded.view());
  } else if (is_deep_rgb_or_gray(frame)) {
    deep_to_rgb8(frame, decoded.view());
  } else {
    SwsPtr sws;
    SwsKey key;
    const AVPixelFormat dst = options.format == PixelFormat::kRGB8 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_BGR24;
    try {
      ensure_rgb_converter(sws, key, frame, dst);
    } catch (const Error& e) {
      throw Error(name + ": " + e.what());
    }
    uint8_t* dst_planes[4] = {decoded.data(), nullptr, nullptr, nullptr};
    const int dst_strides[4] = {static_cast<int>(decoded.stride()), 0, 0, 0};
    const int rows = sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, dst_planes, dst_strides);
    if (rows != frame.height) throw Error(name + ": pixel conversion to RGB failed");
  }

  if (options.apply_exif_orientation && local.exif_orientation != 1) {
    const bool swap = orientation_swaps_axes(local.exif_orientation);
    Image oriented(swap ? decoded.height() : decoded.width(), swap ? decoded.width() : decoded.height(),
                   options.format);
    orient_pixels(decoded.view(), local.exif_orientation, oriented.view());
    decoded = std::move(oriented);
    local.orientation_applied = true;
  }
  if (info) *info = std::move(local);
  return decoded;
}

void write_png(const fs::path& path, ConstImageView image) {
  const std::string name = path.string();
  if (image.empty()) throw Error(name + ": cannot write an empty image as PNG");
  // FFmpeg's PNG encoder takes RGB24 but not BGR24. NV12 is converted the way the GPU pipeline reads
  // it (convert_pixels), so a dumped frame shows what the pipeline saw.
  Image rgb_copy;
  if (image.format != PixelFormat::kRGB8) {
    rgb_copy = to_format(image, PixelFormat::kRGB8);
    image = rgb_copy.view();
  }
  quiet_ffmpeg_log();
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (!codec) throw Error(name + ": this FFmpeg build has no PNG encoder");
  CodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) throw Error(name + ": out of memory allocating the PNG encoder");
  ctx->width = image.width;
  ctx->height = image.height;
  ctx->pix_fmt = AV_PIX_FMT_RGB24;
  ctx->time_base = AVRational{1, 1};
  // Paeth prediction: noticeably smaller files than the default "none" for photos, still fast.
  av_opt_set(ctx->priv_data, "pred", "paeth", 0);
  int rc = avcodec_open2(ctx.get(), codec, nullptr);
  if (rc < 0) throw Error(name + ": cannot open the PNG encoder (" + av_error_string(rc) + ")");

  FramePtr frame = make_frame();
  frame->format = AV_PIX_FMT_RGB24;
  frame->width = image.width;
  frame->height = image.height;
  // A non-refcounted frame pointing at our pixels; the encoder copies what it needs.
  frame->data[0] = const_cast<uint8_t*>(image.data);
  frame->linesize[0] = static_cast<int>(image.stride);
  PacketPtr packet = make_packet();
  rc = avcodec_send_frame(ctx.get(), frame.get());
  if (rc >= 0) rc = avcodec_send_frame(ctx.get(), nullptr);  // flush: one picture, one packet
  if (rc >= 0) rc = avcodec_receive_packet(ctx.get(), packet.get());
  if (rc < 0) throw Error(name + ": PNG encoding failed (" + av_error_string(rc) + ")");

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(name + ": cannot create file for writing");
  out.write(reinterpret_cast<const char*>(packet->data), packet->size);
  out.close();
  if (!out) throw Error(name + ": write failed (disk full or I/O error)");
}

}  // namespace facepipe::media
