// Every reader refuses what is not a regular file (a device, a FIFO, a
// directory) up front with a parse_error saying what it is: reading one
// may never end or may wait for ever. Old Mac line endings (a lone CR) are
// read as line ends by the text readers, and a CSV header that holds
// numbers is warned about.
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/loader_support.hpp"
#include "descent/data/csv.hpp"
#include "descent/data/idx.hpp"
#include "descent/data/libsvm.hpp"
#include "descent/io/file.hpp"
#include "descent/io/safetensors.hpp"
#include "support/temp_dir.hpp"

namespace descent::data {
namespace {

using testing::parse_error_of;
using testing::write_file;

class SpecialFiles : public descent::testing::TempDirTest {
 protected:
  // Paths to a character device, a FIFO and a directory, with what each is.
  std::vector<std::pair<std::string, std::string>> specials() {
    const auto fifo = (dir_ / "fifo").string();
    if (!std::filesystem::exists(fifo)) EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::filesystem::create_directories(dir_ / "dir");
    return {{"/dev/zero", "it is a character device"},
            {fifo, "it is a FIFO (named pipe)"},
            {(dir_ / "dir").string(), "it is a directory"}};
  }
};

TEST_F(SpecialFiles, EveryReaderRefusesThemSayingWhatTheyAre) {
  const auto labels = write_file(dir_ / "labels.idx", std::string{0, 0, 8, 1, 0, 0, 0, 1, 3});
  for (const auto& [path, says] : specials()) {
    const std::vector<std::function<void()>> readers = {
        [&] { load_csv(path); },
        [&] { load_libsvm(path); },
        [&] { load_idx(path, labels); },
        [&] { load_idx(labels, path); },
        [&] { (void)io::SafetensorsFile::read(path); },
    };
    for (std::size_t k = 0; k < readers.size(); ++k) {
      const auto e = parse_error_of(readers[k]);
      ASSERT_TRUE(e) << path << ", reader " << k;
      EXPECT_EQ(e->path(), path);
      EXPECT_NE(std::string(e->what()).find(says), std::string::npos) << e->what();
    }
  }
}

TEST_F(SpecialFiles, OutputsThatAreSpecialOrInAMissingDirectoryAreRefused) {
  for (const auto& [path, says] : specials()) {
    try {
      io::require_writable_output(path, "--out");
      ADD_FAILURE() << path;
    } catch (const invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--out " + path + ": " + says), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(io::require_writable_output((dir_ / "none" / "x").string(), "--out"), invalid_argument);
  EXPECT_THROW(io::require_writable_output("", "--out"), invalid_argument);
  EXPECT_NO_THROW(io::require_writable_output((dir_ / "new.txt").string(), "--out"));
  EXPECT_NO_THROW(io::require_writable_output("relative-in-the-working-directory.txt", "--out"));
}

TEST_F(SpecialFiles, SameFileSeesThroughLinks) {
  const auto a = write_file(dir_ / "a.txt", "a");
  std::filesystem::create_symlink(a, dir_ / "soft.txt");
  std::filesystem::create_hard_link(a, dir_ / "hard.txt");
  EXPECT_TRUE(io::same_file(a, (dir_ / "soft.txt").string()));
  EXPECT_TRUE(io::same_file(a, (dir_ / "hard.txt").string()));
  EXPECT_TRUE(io::same_file(a, (dir_ / "." / "a.txt").string()));
  EXPECT_TRUE(io::same_file((dir_ / "new").string(), (dir_ / "x" / ".." / "new").string()));
  EXPECT_FALSE(io::same_file(a, (dir_ / "b.txt").string()));
}

TEST_F(SpecialFiles, AStreamedFileReplacesItsTargetOnlyOncePublished) {
  const auto path = write_file(dir_ / "log.jsonl", "old\n");
  {
    io::StreamedFile f(path);
    f.write("configuration\n");
    EXPECT_EQ(testing::read_file_bytes(path), "old\n");
  }  // never published: the old file stays, the temporary goes
  EXPECT_EQ(testing::read_file_bytes(path), "old\n");
  EXPECT_EQ(entries(), 1u);
  {
    io::StreamedFile f(path);
    f.write("configuration\n");
    f.write("epoch 1\n");
    f.publish();
    f.write("epoch 2\n");
    EXPECT_EQ(testing::read_file_bytes(path), "configuration\nepoch 1\nepoch 2\n");
  }
  EXPECT_EQ(testing::read_file_bytes(path), "configuration\nepoch 1\nepoch 2\n");
  EXPECT_EQ(entries(), 1u);
  EXPECT_THROW(io::StreamedFile((dir_ / "none" / "log").string()), std::runtime_error);
}

class LineEndings : public descent::testing::TempDirTest {};

TEST_F(LineEndings, ALoneCarriageReturnEndsALineInCsvAndLibsvm) {
  const Dataset csv = load_csv(write_file(dir_ / "cr.csv", "a,b,y\r1,2,0\r3,4,1\r\r5,6,0"));
  EXPECT_EQ(csv.rows, 3);
  EXPECT_EQ(csv.x, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(csv.y, (std::vector<float>{0, 1, 0}));
  const Dataset mixed = load_csv(write_file(dir_ / "mixed.csv", "a,b,y\r\n1,2,0\r3,4,1\n5,6,0\r\n"));
  EXPECT_EQ(mixed.x, csv.x);
  const Dataset svm = load_libsvm(write_file(dir_ / "cr.svm", "1 1:0.5\r0 2:2\r# c\r1 1:1 2:1\r"));
  EXPECT_EQ(svm.rows, 3);
  EXPECT_EQ(svm.y, (std::vector<float>{1, 0, 1}));
  // A line number counts lone CRs too.
  const auto e = parse_error_of([&] { load_csv(write_file(dir_ / "bad.csv", "a,b,y\r1,2,0\r3,x,1\r")); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 3);
}

TEST_F(LineEndings, AHeaderThatHoldsNumbersIsWarnedAboutOnce) {
  std::vector<std::string> warnings;
  CsvOptions o;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  const auto path = write_file(dir_ / "typo.csv", "1.0,2.o,0\n1,2,1\n3,4,0\n");
  const Dataset d = load_csv(path, o);
  EXPECT_EQ(d.rows, 2);  // the typo row was taken for a header, as the file says
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(path + ":1: the first row is read as a header, but 2 of its 3 fields are numbers"),
            std::string::npos)
      << warnings[0];
  warnings.clear();
  load_csv(write_file(dir_ / "names.csv", "width,height,kind\n1,2,0\n"), o);
  o.missing = CsvMissing::impute_mean;
  load_csv(write_file(dir_ / "missing.csv", "NA,2,0\n1,2,1\n"), o);  // data: numbers and a missing value
  EXPECT_TRUE(warnings.empty()) << warnings.front();
}

}  // namespace
}  // namespace descent::data
