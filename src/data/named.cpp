#include "descent/data/named.hpp"

#include <fmt/format.h>

#include <array>
#include <filesystem>
#include <system_error>

#include "descent/core/error.hpp"
#include "descent/data/idx.hpp"

namespace descent::data {
namespace {

namespace fs = std::filesystem;

struct Known {
  const char* name;
  const char* how_to_install;  // said when the files are missing
};

constexpr std::array<Known, 2> kKnown{{
    {"fashion-mnist", "install it with: apt-get install dataset-fashion-mnist"},
    {"mnist",
     "Debian has no MNIST package (apt-cache search mnist finds only dataset-fashion-mnist): place the four "
     "IDX files of http://yann.lecun.com/exdb/mnist/ in that directory, or use \"fashion-mnist\""},
}};

// The first of the spellings of one IDX file that exists in `directory`:
// <part>-<kind>-ubyte(.gz) or <part>-<kind with '.' before idx>-ubyte(.gz),
// e.g. train-images-idx3-ubyte.gz or train-images.idx3-ubyte.
std::string find_file(const fs::path& directory, const std::string& part, const std::string& what,
                      const std::string& idx) {
  for (const char* separator : {"-", "."}) {
    for (const char* suffix : {".gz", ""}) {
      const fs::path candidate = directory / (part + "-" + what + separator + idx + "-ubyte" + suffix);
      std::error_code error;
      if (fs::is_regular_file(candidate, error)) return candidate.string();
    }
  }
  return {};
}

}  // namespace

std::vector<std::string> named_datasets() {
  std::vector<std::string> names;
  for (const Known& k : kKnown) names.emplace_back(k.name);
  return names;
}

std::string default_datasets_root() { return "/usr/share/datasets"; }

Dataset load_named(const std::string& name, Part part) { return load_named(name, part, default_datasets_root()); }

Dataset load_named(const std::string& name, Part part, const std::string& root) {
  return load_named(name, part, root, RowSelector{});
}

Dataset load_named(const std::string& name, Part part, const std::string& root, const RowSelector& rows) {
  const Known* known = nullptr;
  for (const Known& k : kKnown)
    if (name == k.name) known = &k;
  if (known == nullptr) {
    std::string names;
    for (const Known& k : kKnown) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", k.name);
    throw invalid_argument(fmt::format("load_named: name = \"{}\" is not a known data set; known: {}", name, names));
  }
  const fs::path directory = fs::path(root) / name;
  const std::string prefix = part == Part::train ? "train" : "t10k";
  const std::string images = find_file(directory, prefix, "images", "idx3");
  const std::string labels = find_file(directory, prefix, "labels", "idx1");
  if (images.empty() || labels.empty()) {
    const std::string missing =
        images.empty() ? prefix + "-images{-,.}idx3-ubyte[.gz]" : prefix + "-labels{-,.}idx1-ubyte[.gz]";
    throw invalid_argument(fmt::format("load_named: data set \"{}\" ({}) is not installed: found no {} in {}; {}", name,
                                       part == Part::train ? "train" : "test", missing, directory.string(),
                                       known->how_to_install));
  }
  return load_idx(images, labels, IdxOptions{.scale = true, .rows = rows});
}

}  // namespace descent::data
