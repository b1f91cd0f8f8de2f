// Still-image files through FFmpeg: decode anything libavformat/libavcodec can read (JPEG, PNG, BMP,
// WebP, TIFF, GIF, ...) to 8-bit RGB, and write PNG. Start-up / offline code: errors throw
// facepipe::Error with the file name and the cause.
#pragma once

#include <filesystem>
#include <string>

#include "media/image.h"

namespace facepipe::media {

// What the file held and what decode_image_file changed to produce 8-bit, 3-channel pixels.
struct DecodeInfo {
  std::string container;           // FFmpeg demuxer, e.g. "image2", "png_pipe", "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;               // e.g. "mjpeg", "png", "webp", "h264"
  std::string source_pixel_format;  // FFmpeg name, e.g. "yuvj420p", "gray16be", "rgba", "pal8", "monob"
  int source_width = 0;            // as stored, before any EXIF rotation
  int source_height = 0;
  int bits_per_component = 8;      // deepest component of the source (1, 8, 10, 12, 16, ...)
  int source_components = 3;       // 1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha (palette: 3 or 4)
  bool grayscale_expanded = false;  // gray copied into R, G and B
  bool palette_expanded = false;   // palette indices looked up
  bool alpha_dropped = false;      // alpha ignored, not composited (transparent pixels keep their colour)
  bool depth_reduced = false;      // more than 8 bits per component, rounded to 8
  bool yuv_converted = false;      // YCbCr upsampled and converted to RGB (every JPEG)
  int exif_orientation = 1;        // EXIF Orientation tag found (1 = none or upright)
  bool orientation_applied = false;  // the pixels were rotated/flipped to display orientation
  bool first_frame_only = false;   // an animation or video: only its first frame was decoded
  bool partial = false;            // corrupt/truncated data accepted via DecodeOptions::allow_partial

  // One line for logs, e.g. "png gray16be 16-bit 1ch -> rgb8: gray expanded, depth reduced".
  std::string summary() const;
};

struct DecodeOptions {
  PixelFormat format = PixelFormat::kRGB8;  // kRGB8 or kBGR8 (kNV12 throws: stills are for the CPU paths)
  // Rotate/flip to the EXIF Orientation, as browsers and photo viewers do (phone photos rely on it).
  bool apply_exif_orientation = true;
  // By default corrupt or truncated data is an error. When true, whatever the decoder could recover
  // (a truncated JPEG shows its top part, the rest grey) is returned and info->partial is set.
  bool allow_partial = false;
};

// Decodes the first (usually only) frame of an image file. A video file is accepted too and gives
// its first frame (info->first_frame_only). Throws facepipe::Error naming `path` for: missing or
// empty file, a directory, data that is not an image, corrupt or truncated data, zero size.
Image decode_image_file(const std::filesystem::path& path, DecodeInfo* info = nullptr,
                        const DecodeOptions& options = {});

// Writes an 8-bit RGB PNG (a BGR view is swapped on the way out, an NV12 one converted as
// convert_pixels does). Overwrites `path`. Throws
// facepipe::Error naming the file when the encoder or the write fails.
void write_png(const std::filesystem::path& path, ConstImageView image);

}  // namespace facepipe::media
