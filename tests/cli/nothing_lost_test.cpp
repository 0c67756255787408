// Nothing lost, nothing crashes (docs/reliability.md): every subcommand
// refuses, before any work, an output path that is one of its inputs or
// another output, or that it could not write; readers refuse devices,
// FIFOs and directories at once; a failing write is reported and the
// trained model still saved; inputs that are valid are accepted and those
// that are not get a message naming the row.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "descent/core/random.hpp"
#include "descent/io/safetensors.hpp"
#include "support/cli_run.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

using descent::testing::read_bytes;
using descent::testing::run_cli;

class NothingLost : public descent::testing::TempDirTest {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  // Two separable blobs: x0, x1, label (`negative` for class 0, else 0).
  std::string blobs(const std::string& name, int n, const char* negative = "0") const {
    descent::Rng rng(1);
    std::ostringstream s;
    s << "x0,x1,label\n";
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      s << (label ? 3 : -3) + rng.normal() << ',' << (label ? -2 : 2) + rng.normal() << ','
        << (label ? "1" : negative) << '\n';
    }
    return write(name, s.str());
  }
  // `descent ARGS`, expected to fail with status 2 and say `says`.
  void refused(const std::string& args, const std::string& says) const {
    const auto r = run_cli(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(says), std::string::npos) << args << "\n" << r.out;
  }
};

// Every subcommand, each output path naming one of its own inputs (by the
// same path, through a symbolic link and through a hard link): refused, and
// the input is byte for byte what it was.
TEST_F(NothingLost, NoSubcommandWritesOverItsOwnInputs) {
  const auto data = blobs("data.csv", 100), test = blobs("test.csv", 40);
  const auto model = path("model.safetensors"), checkpoint = path("run.ckpt"), log = path("run.jsonl");
  const std::string train = "train --data " + data + " --model logistic --epochs 2 --batch-size 8 --threads 1";
  ASSERT_EQ(run_cli(train + " --save " + model + " --checkpoint " + checkpoint + " --log " + log).status, 0);
  std::filesystem::create_symlink(data, path("data-link.csv"));
  std::filesystem::create_hard_link(log, path("run-hard.jsonl"));

  struct Case {
    std::string args, says;
  };
  const std::vector<Case> cases = {
      {train + " --log " + data, "--log " + data + " is the file --data reads"},
      {train + " --save " + data, "--save " + data + " is the file --data reads"},
      {train + " --checkpoint " + data, "--checkpoint " + data + " is the file --data reads"},
      {train + " --save " + path("data-link.csv"), "is the file --data reads"},
      {train + " --test " + test + " --log " + test, "is the file --test reads"},
      {train + " --test " + test + " --save " + test, "is the file --test reads"},
      {train + " --resume " + checkpoint + " --log " + checkpoint, "is the file --resume reads"},
      {train + " --resume " + checkpoint + " --save " + checkpoint, "is the file --resume reads"},
      {train + " --log " + log + " --save " + log, "--log and --save name the same file"},
      {train + " --log " + log + " --checkpoint " + path("run-hard.jsonl"), "--log and --checkpoint name the same"},
      {"plot " + log + " -o " + log, "-o " + log + " is the file a run log reads"},
      {"plot " + log + " -o " + path("run-hard.jsonl"), "is the file a run log reads"},
      {"plot " + log + " " + path("x-accuracy.svg") + " -o " + path("x.svg"), "is the file a run log reads"},
      {"minimize --suite mgh --method lbfgs --profile " + path("p.svg") + " --plot " + path("p.svg"),
       "name the same file"},
  };
  std::filesystem::copy_file(log, path("x-accuracy.svg"));
  std::vector<std::pair<std::string, std::string>> before;
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    if (entry.is_regular_file()) before.emplace_back(entry.path().string(), read_bytes(entry.path().string()));
  for (const auto& c : cases) refused(c.args, c.says);
  for (const auto& [file, bytes] : before) EXPECT_EQ(read_bytes(file), bytes) << file << " changed";
  // Going on in the checkpoint a run resumes from is the usual way to continue.
  const auto resumed = run_cli("train --data " + data + " --model logistic --epochs 3 --batch-size 8 --threads 1 "
                               "--resume " + checkpoint + " --checkpoint " + checkpoint);
  EXPECT_EQ(resumed.status, 0) << resumed.out;
}

// An output that cannot be written is found before the training, not after.
TEST_F(NothingLost, AnUnwritableOutputIsRefusedBeforeTheTraining) {
  const auto data = blobs("data.csv", 100);
  const std::string train = "train --data " + data + " --model logistic --epochs 1000 --threads 1";
  std::filesystem::create_directory(path("a-directory"));
  for (const char* flag : {"--save", "--checkpoint", "--log"}) {
    refused(train + " " + flag + " " + path("missing/out"), "the directory '" + path("missing") + "' does not exist");
    refused(train + " " + flag + " " + path("a-directory"), "it is a directory");
    refused(train + " " + flag + " " + data + "/out", "is not a directory");
    refused(train + " " + flag + " /dev/null", "it is a character device");
  }
  refused("plot " + data + " -o " + path("missing/curves.svg"), "does not exist");
  refused("minimize --problem rosenbrock --method lbfgs --plot " + path("missing/p.svg"), "does not exist");
  refused("minimize --suite mgh --method lbfgs --profile " + path("a-directory"), "it is a directory");
}

// A run that fails on a bad setting after its data is read, or before,
// leaves an existing log as it was; a run that trains replaces it.
TEST_F(NothingLost, AFailedRunLeavesTheExistingLogAlone) {
  const auto data = blobs("data.csv", 100);
  const auto log = write("run.jsonl", "{\"a log\": \"from an earlier run\"}\n");
  const std::string train = "train --data " + data + " --model logistic --epochs 2 --threads 1 --log " + log;
  refused(train + " --epochs 0", "--epochs");
  refused(train + " --schedule cosine:", "ends with ':'");
  refused(train + " --hp beta9", "--hp");
  refused(train + " --resume " + data, "expected a header length");
  EXPECT_EQ(read_bytes(log), "{\"a log\": \"from an earlier run\"}\n");
  ASSERT_EQ(run_cli(train).status, 0);
  EXPECT_NE(read_bytes(log).find("\"epoch\""), std::string::npos);
  int temporaries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    temporaries += entry.path().filename().string().find(".tmp-") != std::string::npos;
  EXPECT_EQ(temporaries, 0);
}

// A log that cannot be written to the end (a file-size limit stands in for
// a full disk) is reported; the run goes on, saves the model, exits 1.
TEST_F(NothingLost, ALogWriteThatFailsIsReportedAndTheModelIsStillSaved) {
  const auto data = blobs("data.csv", 200);
  const auto log = path("run.jsonl"), model = path("model.safetensors");
  // ulimit -f counts 512-byte blocks: 2 KiB holds the configuration and a
  // few epochs, not 50, and the model of 3 parameters.
  const auto r = descent::testing::run_shell_cli("ulimit -f 4", "train --data " + data + " --model logistic --epochs 50 "
                                                 "--threads 1 --log " + log + " --save " + model);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("the log " + log + " is incomplete"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("File too large"), std::string::npos) << r.out;
  EXPECT_EQ(run_cli("evaluate --model " + model + " --data " + data).status, 0) << "the model was saved";
}

// Devices, FIFOs and directories are refused up front by every reader,
// with what the path is: never read until memory runs out, never waited on.
TEST_F(NothingLost, EveryReaderRefusesSpecialFilesAtOnce) {
  const auto data = blobs("data.csv", 100);
  const auto model = path("model.safetensors");
  ASSERT_EQ(run_cli("train --data " + data + " --model logistic --epochs 1 --save " + model).status, 0);
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  std::filesystem::create_directory(path("dir.csv"));
  struct Special {
    std::string link_target, says;
  };
  for (const Special& s : {Special{"/dev/zero", "it is a character device"}, Special{path("fifo"), "it is a FIFO"},
                           Special{path("dir.csv"), "it is a directory"}}) {
    for (const char* name : {"special.csv", "special.svm", "special.safetensors", "special.jsonl"}) {
      std::filesystem::remove(path(name));
      if (s.link_target != path("dir.csv")) std::filesystem::create_symlink(s.link_target, path(name));
      else std::filesystem::create_directory(path(name));
    }
    refused("train --data " + path("special.csv") + " --model logistic", s.says);
    refused("train --data " + path("special.svm") + " --model logistic", s.says);
    refused("train --data " + data + " --test " + path("special.csv") + " --model logistic", s.says);
    refused("train --data " + data + " --model logistic --resume " + path("special.safetensors"), s.says);
    refused("evaluate --model " + path("special.safetensors") + " --data " + data, s.says);
    refused("evaluate --model " + model + " --data " + path("special.csv"), s.says);
    refused("plot " + path("special.jsonl") + " -o " + path("curves.svg"), s.says);
    for (const char* name : {"special.csv", "special.svm", "special.safetensors", "special.jsonl"})
      std::filesystem::remove_all(path(name));
  }
}

// LIBSVM's binary labels, -1 and +1 (a9a's), train a classifier, and the
// saved model evaluates files with the same labels.
TEST_F(NothingLost, SignedBinaryLabelsTrainAndEvaluateAClassifier) {
  descent::Rng rng(3);
  std::ostringstream s;
  for (int i = 0; i < 200; ++i) {
    const bool positive = i % 2;
    s << (positive ? "+1" : "-1") << " 1:" << (positive ? 2 : -2) + rng.normal() << " 2:" << rng.normal() << "\n";
  }
  const auto data = write("signed.svm", s.str());
  const auto model = path("model.safetensors");
  const auto r = run_cli("train --data " + data + " --model logistic --optimizer lbfgs --save " + model + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["labels"], nlohmann::json({-1, 1}));
  EXPECT_GT(j["test_accuracy"].get<double>(), 0.95);
  const auto e = run_cli("evaluate --model " + model + " --data " + data + " --json");
  ASSERT_EQ(e.status, 0) << e.out;
  EXPECT_GT(nlohmann::json::parse(e.out)["accuracy"].get<double>(), 0.95);
  write("other.svm", "2 1:1 2:1\n-1 1:0 2:1\n");
  refused("evaluate --model " + model + " --data " + path("other.svm"), "the model was trained on the labels -1 and +1");
  // A regression keeps its targets as they are.
  const auto linear = run_cli("train --data " + data + " --model linear --optimizer lbfgs --json");
  ASSERT_EQ(linear.status, 0) << linear.out;
  EXPECT_FALSE(nlohmann::json::parse(linear.out.substr(linear.out.find('{'))).contains("labels"));
}

TEST_F(NothingLost, LabelsThatAreNoClassesAreRefusedNamingTheRow) {
  refused("train --data " + write("one.csv", "a,b,y\n1,2,0\n2,3,0\n3,4,0\n4,5,0\n") + " --model logistic",
          "holds only one class");
  std::string many = "a,b,y\n";
  for (int i = 0; i < 40; ++i) many += std::to_string(i) + ",1," + (i == 7 ? "1000000" : std::to_string(i % 2)) + "\n";
  const auto big = write("big.csv", many);
  refused("train --data " + big + " --model logistic --test " + big, "the class id 1000000 (training row 7)");
  refused("train --data " + big + " --model mlp:2-4-3 --test " + big, "the class id 1000000 (training row 7)");
  // A label beyond the training set's classes in the test set.
  refused("train --data " + blobs("data.csv", 40) + " --model logistic --test " + write("t.csv", "x0,x1,y\n1,1,5\n"),
          "test row 0 has the label 5, which is none of the classes 0..1");
  const auto real = write("real.csv", "a,y\n1,0.5\n2,1\n3,0\n");
  refused("train --data " + real + " --test " + real + " --model logistic", "such as 0.5 in training row 0");
}

TEST_F(NothingLost, AHeaderOfNumbersWithATypoIsWarnedAbout) {
  std::string rows = "1.0,2.o,0\n";
  for (int i = 0; i < 20; ++i) rows += std::to_string(i % 2 ? 3 : -3) + ",1," + std::to_string(i % 2) + "\n";
  const auto r = run_cli("train --data " + write("typo.csv", rows) + " --model logistic --epochs 1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("warning: " + path("typo.csv") + ":1: the first row is read as a header, but 2 of its 3 "
                       "fields are numbers; if it is a data row with a typo ('2.o' in column 2)"),
            std::string::npos)
      << r.out;
  const auto quiet = run_cli("train --data " + blobs("data.csv", 20) + " --model logistic --epochs 1");
  EXPECT_EQ(quiet.out.find("warning"), std::string::npos) << quiet.out;
}

TEST_F(NothingLost, OldMacLineEndingsAreRead) {
  const auto r = run_cli("train --data " + write("cr.csv", "a,b,y\r1,2,0\r2,3,1\r3,4,0\r4,5,1\r5,6,0\r") +
                         " --model logistic --epochs 1 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["train_rows"].get<int>() + j["test_rows"].get<int>(), 5);
}

TEST_F(NothingLost, ASetTooSmallForTheSplitTrainsAndSaysNothingWasHeldOut) {
  const auto r = run_cli("train --data " + write("tiny.csv", "a,b,y\n1,2,0\n2,3,1\n") + " --model logistic --epochs 1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("nothing was held out: 2 rows are too few"), std::string::npos) << r.out;
}

// A saved model whose weights are NaN, or whose spec claims more than the
// file stores, is refused on load instead of evaluated.
TEST_F(NothingLost, SavedModelsWithNonFiniteWeightsOrTooSmallForTheirSpecAreRefused) {
  const auto data = blobs("data.csv", 60);
  descent::io::SafetensorsWriter nan;
  const std::vector<float> weight = {1.0f, std::nanf("")}, bias = {0.0f};
  nan.add("0.weight", std::span<const float>(weight), {1, 2});
  nan.add("0.bias", std::span<const float>(bias), {1});
  nan.set_metadata("model", "logistic:2");
  nan.write(path("nan.safetensors"));
  refused("evaluate --model " + path("nan.safetensors") + " --data " + data, "the weights are not finite: 0.weight");
  descent::io::SafetensorsWriter huge;
  huge.add("0.weight", std::span<const float>(weight), {1, 2});
  huge.add("0.bias", std::span<const float>(bias), {1});
  huge.set_metadata("model", "mlp:2-100000-100000-2");
  huge.write(path("huge.safetensors"));
  refused("evaluate --model " + path("huge.safetensors") + " --data " + data,
          "has 10000600002 parameters, but the file stores 3");
}

// A network whose batch of activations cannot fit is refused before the
// training, naming the batch; the parameters alone would fit.
TEST_F(NothingLost, TheMemoryCheckCountsTheBatchsActivations) {
  std::string rows;
  for (int i = 0; i < 20000; ++i) rows += std::to_string(i % 100) + "," + std::to_string(i % 2) + "\n";
  const auto data = write("long.csv", rows);
  refused("train --data " + data + " --model mlp:1-1000000-2 --epochs 1 --batch-size 16000",
          "with batches of 16000 rows");
}

}  // namespace
