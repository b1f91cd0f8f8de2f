#include <gtest/gtest.h>

#include <span>
#include <string>

#include "common/status.h"
#include "engine/import/zip_archive.h"
#include "import_builders.h"
#include "support/test_support.h"

namespace facepipe::engine {
namespace {

using test::Bytes;
using test::make_zip;

std::span<const std::byte> as_bytes(const Bytes& b) { return {reinterpret_cast<const std::byte*>(b.data()), b.size()}; }
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string to_string(const std::vector<std::byte>& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// A payload that deflate actually compresses, so the inflate path does real work.
Bytes repetitive(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>("facepipe"[i % 8] + (i / 1000));
  return b;
}

template <typename F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(ImportZip, ReadsStoredAndDeflatedMembers) {
  const Bytes big = repetitive(20000);
  const Bytes zip = make_zip({{"a.txt", text("hello"), false}, {"dir/big.bin", big, true}, {"empty", {}, true}});
  const ZipArchive archive(as_bytes(zip), "test.zip");
  ASSERT_EQ(archive.entries().size(), 3u);
  EXPECT_EQ(archive.member_names(), (std::vector<std::string>{"a.txt", "dir/big.bin", "empty"}));
  EXPECT_EQ(archive.entries()[1].method, 8);
  EXPECT_LT(archive.entries()[1].compressed_size, big.size() / 4);
  EXPECT_EQ(to_string(archive.read("a.txt")), "hello");
  const auto inflated = archive.read("dir/big.bin");
  ASSERT_EQ(inflated.size(), big.size());
  EXPECT_EQ(std::memcmp(inflated.data(), big.data(), big.size()), 0);
  EXPECT_TRUE(archive.read("empty").empty());
}

TEST(ImportZip, HandlesBytesBeforeTheArchive) {
  // MediaPipe's .task files carry two bytes before the first local header.
  const Bytes zip = make_zip({{"m", text("payload"), true}}, 2);
  EXPECT_TRUE(ZipArchive::looks_like_zip(as_bytes(zip)));
  const ZipArchive archive(as_bytes(zip), "prefixed.zip");
  EXPECT_EQ(to_string(archive.read("m")), "payload");
}

TEST(ImportZip, UnknownMemberListsTheMembers) {
  const Bytes zip = make_zip({{"one.tflite", text("1"), false}, {"two.tflite", text("2"), false}});
  const ZipArchive archive(as_bytes(zip), "bundle.task");
  const std::string message = error_of([&] { archive.read("three.tflite"); });
  EXPECT_NE(message.find("bundle.task"), std::string::npos) << message;
  EXPECT_NE(message.find("three.tflite"), std::string::npos) << message;
  EXPECT_NE(message.find("one.tflite, two.tflite"), std::string::npos) << message;
}

TEST(ImportZip, DetectsCrcMismatch) {
  Bytes zip = make_zip({{"a.txt", text("hello world"), false}});
  zip[30 + 5 + 3] ^= 0x20;  // a byte of the stored payload (local header 30 + name 5)
  const ZipArchive archive(as_bytes(zip), "crc.zip");
  const std::string message = error_of([&] { archive.read("a.txt"); });
  EXPECT_NE(message.find("CRC-32"), std::string::npos) << message;
  EXPECT_NE(message.find("crc.zip:a.txt"), std::string::npos) << message;
}

TEST(ImportZip, RejectsUnsupportedMethodEncryptionAndZip64) {
  const Bytes zip = make_zip({{"m.bin", text("data"), false}});
  const size_t cd = zip.size() - 22 - (46 + 5);  // the only central directory entry
  {
    Bytes z = zip;
    z[cd + 10] = 12;  // bzip2
    const std::string message = error_of([&] { ZipArchive(as_bytes(z), "m.zip").read("m.bin"); });
    EXPECT_NE(message.find("method 12"), std::string::npos) << message;
    EXPECT_NE(message.find("m.zip:m.bin"), std::string::npos) << message;
  }
  {
    Bytes z = zip;
    z[cd + 8] |= 1;  // encrypted flag
    const std::string message = error_of([&] { ZipArchive(as_bytes(z), "m.zip").read("m.bin"); });
    EXPECT_NE(message.find("encrypted"), std::string::npos) << message;
  }
  {
    Bytes z = zip;
    for (int i = 0; i < 4; ++i) z[z.size() - 22 + 16 + static_cast<size_t>(i)] = 0xff;  // cd offset = 0xffffffff
    const std::string message = error_of([&] { ZipArchive(as_bytes(z), "m.zip"); });
    EXPECT_NE(message.find("zip64"), std::string::npos) << message;
  }
}

TEST(ImportZip, DamagedDeflateStreamThrows) {
  Bytes zip = make_zip({{"big", repetitive(5000), true}});
  for (size_t i = 30 + 3; i < 30 + 3 + 40; ++i) zip[i] = 0xff;
  const ZipArchive archive(as_bytes(zip), "bad.zip");
  EXPECT_THROW(archive.read("big"), Error);
}

TEST(ImportZip, ImplausibleUncompressedSizeIsRejectedBeforeAllocating) {
  Bytes zip = make_zip({{"big", repetitive(100), true}});
  const size_t cd = zip.size() - 22 - (46 + 3);
  for (int i = 0; i < 4; ++i) zip[cd + 24 + static_cast<size_t>(i)] = i == 3 ? 0x7f : 0xff;  // ~2 GB
  const ZipArchive archive(as_bytes(zip), "bomb.zip");
  const std::string message = error_of([&] { archive.read("big"); });
  EXPECT_NE(message.find("implausible"), std::string::npos) << message;
}

TEST(ImportZip, EveryTruncationThrowsOrReadsCleanly) {
  const Bytes zip = make_zip({{"a", repetitive(3000), true}, {"b", text("stored member"), false}});
  for (size_t cut = 0; cut < zip.size(); ++cut) {
    const Bytes part(zip.begin(), zip.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string message = error_of([&] {
      const ZipArchive archive(as_bytes(part), "cut.zip");
      for (const auto& e : archive.entries()) archive.read(e);
    });
    EXPECT_NE(message.find("cut.zip"), std::string::npos) << "cut at " << cut << ": " << message;
  }
}

TEST(ImportZip, RealTaskBundleListsFourMembers) {
  const auto path = test::models_dir() / "face_landmarker.task";
  FACEPIPE_REQUIRE_FILE(path);
  const ZipArchive archive = ZipArchive::open_file(path.string());
  EXPECT_EQ(archive.member_names(),
            (std::vector<std::string>{"face_detector.tflite", "face_landmarks_detector.tflite",
                                      "geometry_pipeline_metadata_landmarks.binarypb", "face_blendshapes.tflite"}));
  for (const auto& e : archive.entries()) {
    EXPECT_EQ(e.method, 0) << e.name;  // the bundle is stored, not compressed
    EXPECT_EQ(archive.read(e).size(), e.uncompressed_size) << e.name;  // CRC-checked
  }
}

}  // namespace
}  // namespace facepipe::engine
