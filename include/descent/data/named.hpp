// Data sets by name, read from where Debian's dataset packages put them.
//
//   auto train = data::load_named("fashion-mnist", data::Part::train);  // 60000 x 784
//   auto test = data::load_named("fashion-mnist", data::Part::test);    // 10000 x 784
//
// The names (named_datasets()):
// - "fashion-mnist": Zalando's Fashion-MNIST, 28x28 grey images of 10 kinds
//   of clothing, from the Debian package dataset-fashion-mnist
//   (apt-get install dataset-fashion-mnist), which installs
//   /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
// - "mnist": LeCun's handwritten digits, in the same layout under
//   /usr/share/datasets/mnist. Debian packages no MNIST, so these are files
//   you place there yourself (or under another root, below).
//
// Each is a pair of IDX files (idx.hpp), gzip-compressed or not, named
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte, with ".gz" or without and with "." or "-" before
// "idx". Pixels are scaled to [0, 1]; labels are the classes 0..9.
#pragma once

#include <string>
#include <vector>

#include "descent/data/dataset.hpp"

namespace descent::data {

enum class Part { train, test };

// The names load_named knows, whether their files are installed or not.
std::vector<std::string> named_datasets();

// The directory the named data sets live under: /usr/share/datasets.
std::string default_datasets_root();

// Loads part of a named data set from <root>/<name>/. Throws
// descent::invalid_argument for an unknown name (listing the known ones) or
// when its files are not there (saying which paths were tried and how to
// install them: for fashion-mnist "apt-get install dataset-fashion-mnist"),
// and descent::parse_error for files that are there but malformed. `rows`
// keeps only some of the part's rows (IdxOptions::rows; RowSelector in
// dataset.hpp); without it, every row.
Dataset load_named(const std::string& name, Part part);
Dataset load_named(const std::string& name, Part part, const std::string& root);
Dataset load_named(const std::string& name, Part part, const std::string& root, const RowSelector& rows);

}  // namespace descent::data
