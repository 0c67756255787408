// Loading a Dataset from a pair of IDX files, the format of MNIST and its
// relatives (Fashion-MNIST, KMNIST, EMNIST): one file of images, one of
// labels. Either may be gzip-compressed (.gz) or raw; both are read the same.
//
//   auto d = data::load_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
//   // d.rows = 60000, d.features = 784, d.classes() = 10, x in [0, 1]
//
// The format (big-endian, http://yann.lecun.com/exdb/mnist/): a magic number
// 00 00 TT NN, where TT is the element type (only 08, unsigned byte, is
// read) and NN the number of dimensions, then NN 32-bit sizes, then the
// elements, row-major. Images have 2 to 4 dimensions (the first counts the
// images; each image is the product of the others, flattened in order);
// labels have 1.
//
// Every problem in a file is a descent::parse_error whose line() is the byte
// offset in the (uncompressed) file where it was found, and whose message
// says "byte N" and what was expected and found: a wrong magic, another
// element type, a zero size, more than 2^31 elements, a file that ends
// early (at the byte where it ran out) or holds more than its header says,
// images and labels of different counts, gzip data that is corrupt. A file
// that cannot be opened is a parse_error at byte 0 with the OS reason. The
// header is checked before anything is allocated for it, and the elements
// are read as they come, so a header that claims more than the file holds
// fails at the end of the file rather than allocating what it claims.
//
// IdxOptions::rows keeps only some of the images (and their labels), chosen
// from the count in the headers; every byte of both files is still read and
// checked as above, and only the kept rows take memory.
#pragma once

#include <string>

#include "descent/data/dataset.hpp"

namespace descent::data {

struct IdxOptions {
  // Divide the bytes by 255, so that features lie in [0, 1]; false keeps
  // them as 0..255.
  bool scale = true;
  // Which rows (images) to keep, from the count the headers declare: see
  // RowSelector in dataset.hpp. Empty = every row.
  RowSelector rows;
};

// rows = the images (those options.rows keeps), features = the pixels of
// one, targets = 1 (the label bytes as numbers), source = images_path.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, const IdxOptions& options = {});

}  // namespace descent::data
