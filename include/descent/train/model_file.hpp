// Saved models: a trained model's weights with everything needed to use it
// again, in one safetensors file (readable from Python).
//
//   train::save_model("model.safetensors", model, x, {.spec = "mlp:784-256-10"});
//   auto saved = train::load_model<float>("model.safetensors");
//   train::prepare_data(saved.about, test_set);  // its scaler and labels
//   auto e = train::evaluate(saved.model, saved.x, test_set);
//
// The file holds one tensor per parameter segment (by its name, e.g.
// "0.weight"), the model's buffers ("buffers"), a standardization's
// "standardize.mean" and "standardize.scale", and the metadata "model" (the
// spec), "loss", "labels" (when the data's labels were -1 and +1), "descent"
// (the version) and "descent.crc32" (of every tensor's bytes). Files are
// written atomically: a temporary file, fsync, rename.
#pragma once

#include <optional>
#include <string>

#include "descent/core/types.hpp"
#include "descent/data/dataset.hpp"
#include "descent/nn/model.hpp"

namespace descent::train {

// What a saved model holds beside its weights.
struct ModelFile {
  std::string spec;                          // as nn::make_model takes it
  std::string loss;                          // the loss's name; empty: the spec's default
  std::optional<data::Standardizer> scaler;  // applied to the features before the model
  bool signed_labels = false;                // trained on -1/+1 labels, read as the classes 0 and 1
};

// Writes the model (its loss is recorded from `model`; about.loss is
// ignored). Throws std::runtime_error naming the file when it cannot be
// written; an existing file is then left as it was.
template <class T>
void save_model(const std::string& path, const nn::Model<T>& model, const Vector<T>& x, const ModelFile& about);

template <class T>
struct SavedModel {
  nn::Model<T> model;
  Vector<T> x;
  ModelFile about;
};

// Reads a file written by save_model, checked: its CRC-32 (files from
// before checksums have none), its spec against the tensors it stores
// (before anything is allocated) and its weights (all finite). Throws
// descent::parse_error naming the file and what is wrong.
template <class T>
SavedModel<T> load_model(const std::string& path);

// Whether a saved model's weights are float64 (load_model<double>) rather
// than float32.
bool saved_in_double(const std::string& path);

// Puts data in the form the model was trained on: -1/+1 labels as the
// classes 0 and 1, the features standardized with the training set's
// statistics. Throws descent::parse_error for a label the model never saw.
void prepare_data(const ModelFile& about, data::Dataset& d);

// Maps the labels -1 and +1 (LIBSVM's binary classes, as in a9a) to the
// class ids 0 and 1 in place; other values are left as they are.
void map_signed_labels(data::Dataset& d);

}  // namespace descent::train
