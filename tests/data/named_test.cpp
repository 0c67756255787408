#include "descent/data/named.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "data/loader_support.hpp"
#include "descent/core/error.hpp"
#include "support/temp_dir.hpp"

namespace descent::data {
namespace {

namespace fs = std::filesystem;

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

std::string images(std::uint32_t n) {
  std::string s = std::string{'\0', '\0', '\x08', '\x03'} + be32(n) + be32(2) + be32(2);
  for (std::uint32_t k = 0; k < 4 * n; ++k) s.push_back(static_cast<char>(k));
  return s;
}

std::string labels(std::uint32_t n) {
  std::string s = std::string{'\0', '\0', '\x08', '\x01'} + be32(n);
  for (std::uint32_t k = 0; k < n; ++k) s.push_back(static_cast<char>(k % 10));
  return s;
}

void write_gzip(const fs::path& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, content.data(), static_cast<unsigned>(content.size())), int(content.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const descent::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no descent::invalid_argument thrown";
  return {};
}

class Named : public descent::testing::TempDirTest {};

TEST(NamedDatasets, ListsFashionMnistAndMnist) {
  const auto names = named_datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), "fashion-mnist"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "mnist"), names.end());
  EXPECT_EQ(default_datasets_root(), "/usr/share/datasets");
}

TEST(NamedDatasets, RejectsAnUnknownNameListingTheKnownOnes) {
  const std::string m = message_of([] { load_named("cifar-10", Part::train); });
  EXPECT_NE(m.find("name = \"cifar-10\" is not a known data set"), std::string::npos) << m;
  EXPECT_NE(m.find("\"fashion-mnist\""), std::string::npos) << m;
}

TEST_F(Named, SaysHowToInstallAMissingFashionMnist) {
  const std::string m = message_of([&] { load_named("fashion-mnist", Part::train, dir_.string()); });
  EXPECT_NE(m.find("apt-get install dataset-fashion-mnist"), std::string::npos) << m;
  EXPECT_NE(m.find((dir_ / "fashion-mnist").string()), std::string::npos) << m;
  EXPECT_NE(m.find("train-images{-,.}idx3-ubyte[.gz]"), std::string::npos) << m;
}

TEST_F(Named, SaysWhereMnistGoesSinceDebianHasNoPackageForIt) {
  const std::string m = message_of([&] { load_named("mnist", Part::test, dir_.string()); });
  EXPECT_NE(m.find("Debian has no MNIST package"), std::string::npos) << m;
  EXPECT_NE(m.find("t10k-images"), std::string::npos) << m;
}

TEST_F(Named, ReadsGzipFilesUnderTheRootByPart) {
  const fs::path d = dir_ / "fashion-mnist";
  fs::create_directories(d);
  write_gzip(d / "train-images-idx3-ubyte.gz", images(6));
  write_gzip(d / "train-labels-idx1-ubyte.gz", labels(6));
  write_gzip(d / "t10k-images-idx3-ubyte.gz", images(3));
  write_gzip(d / "t10k-labels-idx1-ubyte.gz", labels(3));
  const Dataset train = load_named("fashion-mnist", Part::train, dir_.string());
  const Dataset test = load_named("fashion-mnist", Part::test, dir_.string());
  EXPECT_EQ(train.rows, 6);
  EXPECT_EQ(test.rows, 3);
  EXPECT_EQ(train.features, 4);
  EXPECT_FLOAT_EQ(train.row(1)[0], 4.0f / 255.0f);
  EXPECT_EQ(test.y, (std::vector<float>{0, 1, 2}));
}

TEST_F(Named, ReadsRawFilesSpelledWithADotToo) {
  const fs::path d = dir_ / "mnist";
  fs::create_directories(d);
  testing::write_file(d / "t10k-images.idx3-ubyte", images(2));
  testing::write_file(d / "t10k-labels.idx1-ubyte", labels(2));
  EXPECT_EQ(load_named("mnist", Part::test, dir_.string()).rows, 2);
  const std::string m = message_of([&] { load_named("mnist", Part::train, dir_.string()); });
  EXPECT_NE(m.find("train-images"), std::string::npos) << m;
}

TEST_F(Named, PassesOnAParseErrorOfAnInstalledFile) {
  const fs::path d = dir_ / "mnist";
  fs::create_directories(d);
  testing::write_file(d / "train-images-idx3-ubyte", images(2).substr(0, 20));
  testing::write_file(d / "train-labels-idx1-ubyte", labels(2));
  EXPECT_THROW(load_named("mnist", Part::train, dir_.string()), parse_error);
}

TEST_F(Named, KeepsTheRowsASelectorChooses) {
  const fs::path d = dir_ / "fashion-mnist";
  fs::create_directories(d);
  write_gzip(d / "train-images-idx3-ubyte.gz", images(6));
  write_gzip(d / "train-labels-idx1-ubyte.gz", labels(6));
  const Dataset all = load_named("fashion-mnist", Part::train, dir_.string());
  const std::vector<Index> rows{1, 3, 4};
  testing::RecordingSelector select{.keep = rows};
  const Dataset some = load_named("fashion-mnist", Part::train, dir_.string(), select.selector());
  EXPECT_EQ(select.calls, 1);
  EXPECT_EQ(select.rows, 6);
  testing::expect_same_data(some, subset(all, rows));
  EXPECT_FLOAT_EQ(some.row(0)[0], 4.0f / 255.0f);  // scaled as without a selector
  // An empty selector keeps every row.
  testing::expect_same_data(load_named("fashion-mnist", Part::train, dir_.string(), RowSelector{}), all);
  testing::RecordingSelector bad{.keep = {6}};
  EXPECT_THROW(load_named("fashion-mnist", Part::train, dir_.string(), bad.selector()), descent::invalid_argument);
}

TEST(FashionMnist, LoadsTheDebianPackageWhenInstalled) {
  const fs::path root = fs::path(default_datasets_root()) / "fashion-mnist";
  if (!fs::is_directory(root))
    GTEST_SKIP() << root.string() << " does not exist (apt-get install dataset-fashion-mnist to run this test)";
  const Dataset train = load_named("fashion-mnist", Part::train);
  const Dataset test = load_named("fashion-mnist", Part::test);
  EXPECT_EQ(train.rows, 60000);
  EXPECT_EQ(test.rows, 10000);
  for (const Dataset* d : {&train, &test}) {
    EXPECT_EQ(d->features, 784);
    EXPECT_EQ(d->classes(), 10);
    const auto [lo, hi] = std::minmax_element(d->x.begin(), d->x.end());
    EXPECT_EQ(*lo, 0.0f);
    EXPECT_EQ(*hi, 1.0f);
  }
  // Balanced classes: 6000 of each in train, 1000 in test.
  std::vector<int> count(10, 0);
  for (const float y : test.y) ++count[static_cast<std::size_t>(y)];
  EXPECT_EQ(count, std::vector<int>(10, 1000));
}

}  // namespace
}  // namespace descent::data
