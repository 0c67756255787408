#include "descent/data/idx.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "data/loader_support.hpp"
#include "descent/core/error.hpp"
#include "support/temp_dir.hpp"

namespace descent::data {
namespace {

using testing::parse_error_of;

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

// An IDX file: magic 00 00 type rank, the sizes, then `data`.
std::string idx(const std::vector<std::uint32_t>& dims, const std::string& data, unsigned char type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const auto d : dims) s += be32(d);
  return s + data;
}

// n bytes whose values say where they are: byte k = (k * 7 + offset) % 256.
std::string counting_bytes(std::size_t n, int offset = 0) {
  std::string s;
  for (std::size_t k = 0; k < n; ++k) s.push_back(static_cast<char>((k * 7 + static_cast<std::size_t>(offset)) % 256));
  return s;
}

void write_gzip(const std::string& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!content.empty()) {
    ASSERT_EQ(gzwrite(f, content.data(), static_cast<unsigned>(content.size())), int(content.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Idx : public descent::testing::TempDirTest {
 protected:
  // Four 2x3 images whose pixels count up, and labels 3, 0, 2, 1.
  const std::string images_ = idx({4, 2, 3}, counting_bytes(24));
  const std::string labels_ = idx({4}, std::string{3, 0, 2, 1});

  std::string raw(const std::string& name, const std::string& content) {
    return testing::write_file(dir_ / name, content);
  }
  std::string gz(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    write_gzip(path, content);
    return path;
  }
  // The parse_error reading these images and labels; its message must hold
  // each of `parts` and it must name `path` at `byte`.
  void expect_error(const std::string& images, const std::string& labels, const std::string& path, std::int64_t byte,
                    const std::vector<std::string>& parts) {
    auto e = parse_error_of([&] { load_idx(images, labels); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->path(), path);
    EXPECT_EQ(e->line(), byte) << e->what();
    if (byte > 0) {
      EXPECT_NE(std::string(e->what()).find("byte " + std::to_string(byte) + ":"), std::string::npos) << e->what();
    }
    for (const auto& part : parts) EXPECT_NE(std::string(e->what()).find(part), std::string::npos) << e->what();
  }
  void expect_image_error(const std::string& images_content, std::int64_t byte, const std::vector<std::string>& parts) {
    const std::string images = raw("images", images_content);
    expect_error(images, raw("labels", labels_), images, byte, parts);
  }
};

void expect_counting_pixels(const Dataset& d, float scale) {
  ASSERT_EQ(d.x.size(), 24u);
  for (std::size_t k = 0; k < 24; ++k) EXPECT_FLOAT_EQ(d.x[k], static_cast<float>((k * 7) % 256) / scale) << k;
}

TEST_F(Idx, ReadsRawImagesAndLabelsScaledToOne) {
  const Dataset d = load_idx(raw("i", images_), raw("l", labels_));
  EXPECT_EQ(d.rows, 4);
  EXPECT_EQ(d.features, 6);
  EXPECT_EQ(d.targets, 1);
  EXPECT_EQ(d.y, (std::vector<float>{3, 0, 2, 1}));
  EXPECT_EQ(d.classes(), 4);
  EXPECT_EQ(d.source, (dir_ / "i").string());
  expect_counting_pixels(d, 255.0f);
}

TEST_F(Idx, ReadsGzipFilesTheSameAsRawOnes) {
  const Dataset a = load_idx(raw("i", images_), raw("l", labels_));
  const Dataset b = load_idx(gz("i.gz", images_), gz("l.gz", labels_));
  const Dataset c = load_idx(gz("i2.gz", images_), raw("l2", labels_));
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(a.x, c.x);
  EXPECT_NE(read_bytes((dir_ / "i.gz").string()), images_) << "the test wrote no gzip file";
}

TEST_F(Idx, KeepsBytesUnscaledOnRequest) {
  const Dataset d = load_idx(raw("i", images_), raw("l", labels_), {.scale = false});
  expect_counting_pixels(d, 1.0f);
  const Dataset full = load_idx(raw("w", idx({2, 1}, std::string{'\0', '\xff'})), raw("v", idx({2}, {'\0', '\0'})));
  EXPECT_EQ(full.x, (std::vector<float>{0.0f, 1.0f}));
}

TEST_F(Idx, ReadsImagesOfTwoToFourDimensionsFlattened) {
  const std::string labels = raw("l", idx({2}, {1, 0}));
  const Dataset two = load_idx(raw("a", idx({2, 5}, counting_bytes(10))), labels);
  EXPECT_EQ(two.features, 5);
  const Dataset four = load_idx(raw("b", idx({2, 2, 2, 3}, counting_bytes(24))), labels);
  EXPECT_EQ(four.features, 12);
  EXPECT_FLOAT_EQ(four.row(1)[0], static_cast<float>(12 * 7) / 255.0f);
}

TEST_F(Idx, RejectsAWrongMagicNumber) {
  expect_image_error("\x01\x02\x08\x03" + be32(4) + be32(2) + be32(3) + counting_bytes(24), 0,
                     {"expected the IDX magic number 00 00 08 03 (a file of images), found 01 02 08 03"});
}

TEST_F(Idx, NotesAFileCompressedTwice) {
  const std::string once = (dir_ / "once.gz").string();
  write_gzip(once, images_);
  const std::string twice = gz("twice.gz", read_bytes(once));
  expect_error(twice, raw("l", labels_), twice, 0, {"found 1f 8b", "compressed twice"});
}

TEST_F(Idx, RejectsOtherElementTypesByName) {
  expect_image_error(idx({4, 2, 3}, counting_bytes(96), 0x0D), 2,
                     {"element type 0x0D (float32) is not supported: expected 0x08 (unsigned byte)"});
  expect_image_error(idx({4, 2, 3}, counting_bytes(24), 0x05), 2, {"found 0x05, which is no IDX type"});
}

TEST_F(Idx, RejectsAnUnexpectedNumberOfDimensions) {
  expect_image_error(idx({4}, counting_bytes(4)), 3, {"expected 2 to 4 dimensions in a file of images, found 1"});
  expect_image_error(idx({1, 1, 1, 1, 4}, counting_bytes(4)), 3, {"found 5"});
  const std::string labels = raw("l2", idx({4, 1}, std::string{1, 2, 3, 0}));
  expect_error(raw("i", images_), labels, labels, 3, {"expected 1 dimension in a file of labels, found 2"});
}

TEST_F(Idx, RejectsAZeroSize) {
  expect_image_error(idx({4, 0, 3}, ""), 8, {"dimension 2 of 3 is 0: expected a positive size"});
}

TEST_F(Idx, RejectsAHeaderClaimingMoreThan2To31ElementsBeforeReadingOn) {
  expect_image_error(idx({65535, 65535, 65535}, counting_bytes(24)), 4,
                     {"the dimensions 65535 x 65535 x ... hold more than 2^31 elements"});
  expect_image_error(idx({4096, 1024, 1024}, ""), 4, {"4096 x 1024 x 1024"});
}

TEST_F(Idx, RejectsAHeaderClaimingMoreThanTheFileHoldsAtTheByteWhereDataRunsOut) {
  // 60000 28x28 images claimed, 10 pixels present: fails at byte 16 + 10
  // without allocating 47 MB first (read as the data comes).
  const std::string many = raw("many", idx({60000, 28, 28}, counting_bytes(10)));
  expect_error(many, raw("labels60000", idx({60000}, std::string(60000, '\1'))), many, 26,
               {"the file ends here: expected 47040000 bytes of pixels after the 16-byte header "
                "(shape 60000 x 28 x 28), found 10"});
  // One pixel short.
  expect_image_error(idx({4, 2, 3}, counting_bytes(23)), 39, {"found 23"});
}

TEST_F(Idx, RejectsAFileThatEndsInsideTheHeader) {
  expect_image_error(images_.substr(0, 2), 2, {"the file ends inside the 4-byte IDX magic number"});
  expect_image_error(images_.substr(0, 10), 10,
                     {"the file ends inside the header: expected the size of dimension 2 of 3"});
  expect_image_error("", 0, {"found an empty file"});
}

TEST_F(Idx, RejectsACutGzipStreamAtTheByteWhereDataRunsOut) {
  const std::string whole = (dir_ / "whole.gz").string();
  write_gzip(whole, idx({4, 2, 3}, std::string(24, '\0')));  // compresses to less than the header
  const std::string compressed = read_bytes(whole);
  const std::string cut = raw("cut.gz", compressed.substr(0, compressed.size() - 6));  // CRC and size lost
  auto e = parse_error_of([&] { load_idx(cut, raw("l", labels_)); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path(), cut);
  EXPECT_NE(std::string(e->what()).find("cut short"), std::string::npos) << e->what();
}

TEST_F(Idx, RejectsCorruptGzipData) {
  const std::string whole = (dir_ / "whole.gz").string();
  write_gzip(whole, images_);
  std::string compressed = read_bytes(whole);
  compressed[compressed.size() - 5] ^= 0x55;  // the stored CRC no longer matches
  const std::string bad = raw("bad.gz", compressed);
  auto e = parse_error_of([&] { load_idx(bad, raw("l", labels_)); });
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("corrupt gzip data"), std::string::npos) << e->what();
}

TEST_F(Idx, RejectsBytesBeyondWhatTheHeaderDeclares) {
  expect_image_error(images_ + "x", 40, {"expected the end of the file after the 24 elements the header declares"});
}

TEST_F(Idx, RejectsImagesAndLabelsOfDifferentCounts) {
  const std::string labels = raw("l3", idx({3}, std::string{1, 2, 0}));
  expect_error(raw("i", images_), labels, labels, 4, {"expected 4 labels, one per image in", "found 3"});
}

TEST_F(Idx, ReportsAFileThatCannotBeOpenedAtByteZeroWithTheReason) {
  const std::string absent = (dir_ / "absent").string();
  expect_error(absent, raw("l", labels_), absent, 0, {"cannot open the file: No such file or directory"});
  expect_error(raw("i", images_), absent, absent, 0, {"No such file or directory"});
  auto e = parse_error_of([&] { load_idx(dir_.string(), raw("l2", labels_)); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 0);
}

// Five 2x3 images whose pixels count up, labels 3, 0, 2, 1, 4, for the row
// selector tests.
std::string five_images() { return idx({5, 2, 3}, counting_bytes(30)); }
std::string five_labels() { return idx({5}, std::string{3, 0, 2, 1, 4}); }

TEST_F(Idx, KeepsTheSelectedRowsOfRawAndGzipFiles) {
  const std::vector<Index> rows{1, 3, 4};
  for (const bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "raw");
    const std::string images = gzip ? gz("i.gz", five_images()) : raw("i", five_images());
    const std::string labels = gzip ? gz("l.gz", five_labels()) : raw("l", five_labels());
    const Dataset all = load_idx(images, labels);
    testing::RecordingSelector select{.keep = rows};
    const Dataset some = load_idx(images, labels, {.rows = select.selector()});
    EXPECT_EQ(select.calls, 1);
    EXPECT_EQ(select.rows, 5);
    testing::expect_same_data(some, subset(all, rows));
    EXPECT_EQ(some.y, (std::vector<float>{0, 1, 4}));
    // Unscaled too.
    const Dataset bytes = load_idx(images, labels, {.scale = false, .rows = select.selector()});
    testing::expect_same_data(bytes, subset(load_idx(images, labels, {.scale = false}), rows));
  }
}

TEST_F(Idx, KeepsSelectedRowsThatSpanTheReadChunks) {
  // Rows of 300 x 300 = 90000 bytes, longer than a 64 KiB read, so that
  // rows start and end inside chunks and span their boundaries.
  const std::string images_content = idx({4, 300, 300}, counting_bytes(4 * 90000, 5));
  const std::string labels_content = idx({4}, std::string{1, 2, 3, 0});
  for (const bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "raw");
    const std::string images = gzip ? gz("i.gz", images_content) : raw("i", images_content);
    const std::string labels = gzip ? gz("l.gz", labels_content) : raw("l", labels_content);
    const Dataset all = load_idx(images, labels);
    for (const std::vector<Index>& rows :
         {std::vector<Index>{0, 2, 3}, std::vector<Index>{1}, std::vector<Index>{3}, std::vector<Index>{0, 1, 2, 3}}) {
      testing::RecordingSelector select{.keep = rows};
      testing::expect_same_data(load_idx(images, labels, {.rows = select.selector()}), subset(all, rows));
      EXPECT_EQ(select.rows, 4);
    }
  }
}

TEST_F(Idx, ASelectorKeepingNoRowsGivesAnEmptyDataset) {
  testing::RecordingSelector none;
  const Dataset d = load_idx(raw("i", five_images()), raw("l", five_labels()), {.rows = none.selector()});
  EXPECT_EQ(none.rows, 5);
  EXPECT_EQ(d.rows, 0);
  EXPECT_EQ(d.features, 6);
  EXPECT_TRUE(d.x.empty());
  EXPECT_TRUE(d.y.empty());
  EXPECT_NO_THROW(d.validate());
}

TEST_F(Idx, ChecksTheWholeFileWhateverTheSelectorKeeps) {
  testing::RecordingSelector first{.keep = {0}};
  const IdxOptions options{.rows = first.selector()};
  auto expect_same_error = [&](const std::string& images, const std::string& labels) {
    auto plain = parse_error_of([&] { load_idx(images, labels); });
    auto selected = parse_error_of([&] { load_idx(images, labels, options); });
    ASSERT_TRUE(plain);
    ASSERT_TRUE(selected);
    EXPECT_EQ(selected->path(), plain->path());
    EXPECT_EQ(selected->line(), plain->line());
    EXPECT_STREQ(selected->what(), plain->what());
  };
  const std::string labels = raw("l", five_labels());
  // One pixel short, in a row that is not kept; bytes beyond the header's.
  expect_same_error(raw("short", five_images().substr(0, five_images().size() - 1)), labels);
  expect_same_error(raw("long", five_images() + "x"), labels);
  expect_same_error(raw("i", five_images()), raw("long-labels", five_labels() + "x"));
  // A gzip stream cut short.
  const std::string whole = (dir_ / "whole.gz").string();
  write_gzip(whole, five_images());
  const std::string compressed = read_bytes(whole);
  expect_same_error(raw("cut.gz", compressed.substr(0, compressed.size() - 6)), labels);
  // The counts of images and labels still have to agree, before selecting.
  first.calls = 0;
  expect_same_error(raw("i", five_images()), raw("l4", labels_));
  EXPECT_EQ(first.calls, 0);
}

TEST_F(Idx, RejectsASelectorOutOfRangeOrNotIncreasing) {
  const std::string images = raw("i", five_images());
  const std::string labels = raw("l", five_labels());
  for (const std::vector<Index>& rows : {std::vector<Index>{0, 5}, std::vector<Index>{-1}, std::vector<Index>{2, 1},
                                         std::vector<Index>{1, 1}}) {
    testing::RecordingSelector bad{.keep = rows};
    EXPECT_THROW(load_idx(images, labels, {.rows = bad.selector()}), descent::invalid_argument);
  }
}

TEST_F(Idx, SelectsLikeSubsetOnMutatedRawAndGzipFiles) {
  const std::string labels = raw("l", five_labels());
  const std::string images = (dir_ / "fuzz").string();
  auto load = [&](const std::string& content, const RowSelector& rows) {
    testing::write_file(images, content);
    return load_idx(images, labels, {.rows = rows});
  };
  EXPECT_GT(testing::fuzz_selection(five_images(), 150, 4, load), 5);
  const std::string gz_whole = (dir_ / "whole.gz").string();
  write_gzip(gz_whole, five_images());
  testing::fuzz_selection(read_bytes(gz_whole), 150, 5, load);
}

TEST_F(Idx, SurvivesMutatedRawAndGzipFiles) {
  const std::string labels = raw("l", labels_);
  const std::string images = (dir_ / "fuzz").string();
  const int raw_loaded = testing::fuzz(images_, 150, 1, [&](const std::string& content) {
    testing::write_file(images, content);
    return load_idx(images, labels);
  });
  const std::string gz_whole = (dir_ / "whole.gz").string();
  write_gzip(gz_whole, images_);
  const int gz_loaded = testing::fuzz(read_bytes(gz_whole), 150, 2, [&](const std::string& content) {
    testing::write_file(images, content);
    return load_idx(images, labels);
  });
  // Labels mutated too, read with gzip images.
  const std::string gz_images = gz("images.gz", images_);
  testing::fuzz(labels_, 50, 3, [&](const std::string& content) {
    testing::write_file(labels, content);
    return load_idx(gz_images, labels);
  });
  EXPECT_GT(raw_loaded, 5);  // flipped pixels still load
  EXPECT_LT(raw_loaded, 140);
  EXPECT_LT(gz_loaded, 140);
}

}  // namespace
}  // namespace descent::data
