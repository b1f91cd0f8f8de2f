// V4L2 camera sources through libavdevice: the failure paths that need no camera attached.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/status.h"
#include "media/video_reader.h"

namespace facepipe::media {
namespace {

// A V4L2 camera that is not there: a clear error naming the device (the runtime then reports the
// camera and keeps reconnecting), whatever the build has.
TEST(VideoReaderV4l2, MissingDeviceIsAClearError) {
  for (const char* source : {"/dev/video97", "/dev/video97?input_format=mjpeg&video_size=1280x720&framerate=30"}) {
    try {
      VideoReader reader(source);
      FAIL() << source << " opened";
    } catch (const Error& e) {
      const std::string what = e.what();
      std::printf("[v4l2] %s -> %s\n", source, what.c_str());
      EXPECT_NE(what.find("/dev/video97"), std::string::npos) << what;
    }
  }
}

TEST(VideoReaderV4l2, BadDeviceOptionsAreRejected) {
  try {
    VideoReader reader("/dev/video97?input_format");
    FAIL() << "opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/video97"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace facepipe::media
