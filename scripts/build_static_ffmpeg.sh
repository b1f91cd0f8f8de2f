#!/usr/bin/env bash
# Builds a small, self-contained static FFmpeg (the decoders, demuxers and protocols facepipe uses,
# no external library but zlib) for machines without FFmpeg packages, e.g. a GPU box where facepipe is
# built elsewhere and copied over. Link facepipe against it with
#   PKG_CONFIG_LIBDIR=PREFIX/lib/pkgconfig cmake -S . -B build-static -DFACEPIPE_VIEWER=OFF -DFACEPIPE_V4L2=OFF
# (its pkg-config files list the system libraries it needs: pthread, libm, libatomic, zlib).
# Usage: scripts/build_static_ffmpeg.sh FFMPEG_SOURCE_DIR PREFIX [JOBS]
# (FFmpeg sources: e.g. `apt-get source ffmpeg` on Debian, or a release tarball; needs nasm.)
set -euo pipefail
src=${1:?FFmpeg source directory}
prefix=${2:?install prefix}
jobs=${3:-2}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
cd "$src"
./configure --prefix="$prefix" --enable-static --disable-shared --enable-pic \
  --disable-programs --disable-doc --disable-autodetect --disable-everything \
  --disable-avdevice --disable-avfilter --disable-swresample --disable-network --enable-zlib \
  --enable-decoder=h264,hevc,mpeg4,mjpeg,png,bmp,tiff,webp,ppm,pgm,pgmyuv,pam,vp8,vp9,rawvideo \
  --enable-parser=h264,hevc,mpeg4video,mjpeg,png,vp8,vp9,bmp,webp,pnm \
  --enable-demuxer=mov,matroska,avi,image2,image_png_pipe,image_jpeg_pipe,image_bmp_pipe,image_webp_pipe,image_tiff_pipe,image_ppm_pipe,image_pgm_pipe,mjpeg,h264,hevc,rawvideo \
  --enable-encoder=png,mpeg4 --enable-muxer=mp4,mov --enable-protocol=file,pipe \
  --enable-bsf=h264_mp4toannexb,hevc_mp4toannexb
make -j"$jobs"
make install
echo "static FFmpeg installed in $prefix (pkg-config files in $prefix/lib/pkgconfig)"
