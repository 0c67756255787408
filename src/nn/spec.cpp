#include "descent/nn/spec.hpp"

#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace descent::nn {

namespace {

[[noreturn]] void bad_spec(const std::string& spec, const std::string& why) {
  throw invalid_argument("model spec '" + spec + "': " + why + "\n" + model_spec_help());
}

// "784-256-10" -> {784, 256, 10}, each >= 1.
std::vector<Index> parse_sizes(const std::string& spec, const std::string& text) {
  std::vector<Index> sizes;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('-', start);
    const std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    Index v = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || v < 1)
      bad_spec(spec, "'" + part + "' is not a positive layer size");
    sizes.push_back(v);
    if (end == std::string::npos) return sizes;
    start = end + 1;
  }
}

// The most parameters a spec may ask for: far beyond any model this library
// can train, and far enough below 2^63 that no count of them, nor of their
// bytes, overflows.
constexpr Index kMaxParameters = Index(1) << 40;

// Refuses a network of layers sizes[0] -> sizes[1] -> ... (weights and
// biases) with more than kMaxParameters parameters, before any layer is
// built: their shapes and the layout would overflow Index on the way.
void check_parameter_count(const std::string& spec, const std::vector<Index>& sizes) {
  Index count = 0;
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    const Index in = sizes[i], out = sizes[i + 1];  // each in [1, kMaxParameters] when checked
    if (in > kMaxParameters || out > kMaxParameters || in + 1 > (kMaxParameters - count) / out)
      bad_spec(spec, fmt::format("the model would have more than 2^40 parameters (reached at layer {}, {} -> {})",
                                 i + 1, in, out));
    count += (in + 1) * out;
  }
}

InitOptions network_init(Nonlinearity f) {
  const std::string name = nonlinearity_name(f);
  const bool relu_like = f == Nonlinearity::relu || f == Nonlinearity::leaky_relu || f == Nonlinearity::gelu;
  return {.method = relu_like ? Init::kaiming_uniform : Init::xavier_uniform, .gain = gain_for(name)};
}

template <class T>
Model<T> affine(Index in, Index out, Loss loss) {
  auto net = std::make_unique<Sequential<T>>();
  net->template add<Linear<T>>(in, out, LinearOptions{.init = {.method = Init::zeros}});
  return Model<T>(std::move(net), Shape{in}, loss);
}

template <class T>
Model<T> lenet() {
  const InitOptions he{.method = Init::kaiming_uniform, .gain = gain_for("relu")};
  const autograd::Pool2dOptions pool{.kernel = 2};
  auto net = std::make_unique<Sequential<T>>();
  net->template add<Conv2d<T>>(1, 6, 5, ConvOptions{.padding = 2, .init = he});
  net->template add<ReLU<T>>();
  net->template add<MaxPool2d<T>>(pool);
  net->template add<Conv2d<T>>(6, 16, 5, ConvOptions{.init = he});
  net->template add<ReLU<T>>();
  net->template add<MaxPool2d<T>>(pool);
  net->template add<Flatten<T>>();
  net->template add<Linear<T>>(400, 120, LinearOptions{.init = he});
  net->template add<ReLU<T>>();
  net->template add<Linear<T>>(120, 10, LinearOptions{.init = {.method = Init::kaiming_uniform, .gain = 1.0}});
  return Model<T>(std::move(net), Shape{1, 28, 28}, Loss{.kind = LossKind::cross_entropy});
}

}  // namespace

std::string model_spec_help() {
  return "model specs: linear:F[-O], logistic:F, logistic:F-K, mlp:F-H1-...-O[:relu|leaky_relu|tanh|sigmoid|gelu], "
         "cnn:lenet";
}

template <class T>
Model<T> make_model(const std::string& spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string::npos) bad_spec(spec, "expected KIND:ARGS");
  const std::string kind = spec.substr(0, colon);
  std::string args = spec.substr(colon + 1);

  if (kind == "cnn") {
    if (args != "lenet") bad_spec(spec, "the known CNN is 'lenet'");
    return lenet<T>();
  }
  if (kind == "linear" || kind == "logistic") {
    const auto sizes = parse_sizes(spec, args);
    if (sizes.size() > 2) bad_spec(spec, "expected " + kind + ":F or " + kind + ":F-" + (kind == "linear" ? "O" : "K"));
    const Index out = sizes.size() == 2 ? sizes[1] : 1;
    check_parameter_count(spec, {sizes[0], out});
    if (kind == "linear") return affine<T>(sizes[0], out, Loss{.kind = LossKind::mse});
    if (sizes.size() == 2 && out < 2) bad_spec(spec, "multinomial logistic regression needs K >= 2 classes");
    return affine<T>(sizes[0], out, Loss{.kind = out == 1 ? LossKind::bce : LossKind::cross_entropy});
  }
  if (kind == "mlp") {
    Nonlinearity f = Nonlinearity::relu;
    if (const std::size_t c = args.find(':'); c != std::string::npos) {
      try {
        f = parse_nonlinearity(args.substr(c + 1));
      } catch (const invalid_argument& e) {
        bad_spec(spec, e.what());
      }
      args = args.substr(0, c);
    }
    const auto sizes = parse_sizes(spec, args);
    if (sizes.size() < 2) bad_spec(spec, "an MLP needs at least an input and an output size");
    check_parameter_count(spec, sizes);
    auto net = std::make_unique<Sequential<T>>();
    const InitOptions hidden = network_init(f);
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
      const bool last = i + 2 == sizes.size();
      net->template add<Linear<T>>(sizes[i], sizes[i + 1],
                                   LinearOptions{.init = last ? InitOptions{.method = hidden.method, .gain = 1.0}
                                                              : hidden});
      if (!last) net->add(std::make_unique<Activation<T>>(f));
    }
    const Loss loss{.kind = sizes.back() == 1 ? LossKind::mse : LossKind::cross_entropy};
    return Model<T>(std::move(net), Shape{sizes.front()}, loss);
  }
  bad_spec(spec, "unknown kind '" + kind + "'");
}

template Model<float> make_model<float>(const std::string&);
template Model<double> make_model<double>(const std::string&);

}  // namespace descent::nn
