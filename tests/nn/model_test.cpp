// Models: gradients of whole networks against finite differences, specs,
// initializers, and models that fit small problems to known answers.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <numeric>

#include "descent/nn/objective.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/solvers/lbfgs.hpp"

namespace descent::nn {
namespace {

// Central differences of f.value over every parameter, against the gradient.
template <class F>
void expect_gradient_matches(F& f, Vector<double> x, double tolerance) {
  Vector<double> g(x.size());
  f.value_and_gradient(x, g);
  const double h = 1e-6;
  for (Index i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = f.value(x);
    x[i] = saved - h;
    const double down = f.value(x);
    x[i] = saved;
    const double fd = (up - down) / (2 * h);
    EXPECT_NEAR(g[i], fd, tolerance * (1 + std::abs(fd))) << "parameter " << i;
  }
}

struct Data {
  std::vector<double> features, targets;
};

Data random_data(Index n, Index width, Index classes, std::uint64_t seed) {
  Rng rng(seed);
  Data d;
  for (Index i = 0; i < n * width; ++i) d.features.push_back(rng.normal());
  for (Index i = 0; i < n; ++i) d.targets.push_back(static_cast<double>(rng.below(classes)));
  return d;
}

TEST(ModelGradient, MlpWithEveryActivationMatchesFiniteDifferences) {
  for (const char* act : {"relu", "leaky_relu", "tanh", "sigmoid", "gelu"}) {
    auto model = make_model<double>(std::string("mlp:5-7-6-3:") + act);
    const Data d = random_data(9, 5, 3, 1);
    ModelObjective<double> f(model, d.features.data(), d.targets.data(), 9, {.chunk_rows = 4});
    Vector<double> x(f.size());
    model.initialize(x, 3);
    SCOPED_TRACE(act);
    expect_gradient_matches(f, x, 1e-6);
  }
}

TEST(ModelGradient, ConvNetWithBatchNormAndPoolingMatchesFiniteDifferences) {
  auto net = std::make_unique<Sequential<double>>();
  net->add<Conv2d<double>>(2, 3, 3, ConvOptions{.stride = 1, .padding = 1});
  net->add<BatchNorm2d<double>>(3);
  net->add<Tanh<double>>();
  net->add<MaxPool2d<double>>(autograd::Pool2dOptions{.kernel = 2});
  net->add<Conv2d<double>>(3, 4, 2, ConvOptions{.stride = 2});
  net->add<AvgPool2d<double>>(autograd::Pool2dOptions{.kernel = 1});
  net->add<Flatten<double>>();
  net->add<Linear<double>>(4, 5);
  net->add<BatchNorm1d<double>>(5);
  net->add<GELU<double>>();
  net->add<Linear<double>>(5, 3);
  Model<double> model(std::move(net), Shape{2, 6, 6}, Loss{.kind = LossKind::cross_entropy, .label_smoothing = 0.1});
  EXPECT_EQ(model.output_shape(), (Shape{3}));
  const Data d = random_data(6, 72, 3, 2);
  // One chunk: batch statistics are those of the whole batch.
  ModelObjective<double> f(model, d.features.data(), d.targets.data(), 6);
  Vector<double> x(f.size());
  model.initialize(x, 5);
  expect_gradient_matches(f, x, 1e-5);
}

TEST(ModelGradient, MiniBatchGradientIsTheMeanOverItsRows) {
  auto model = make_model<double>("mlp:4-5-3:tanh");
  const Data d = random_data(10, 4, 3, 4);
  ModelObjective<double> f(model, d.features.data(), d.targets.data(), 10);
  Vector<double> x(f.size()), g(f.size()), g1(f.size()), g2(f.size());
  model.initialize(x, 1);
  const std::vector<Index> rows{7, 2};
  const double both = f.value_and_gradient(x, g, rows);
  const double first = f.value_and_gradient(x, g1, std::span<const Index>(rows.data(), 1));
  const double second = f.value_and_gradient(x, g2, std::span<const Index>(rows.data() + 1, 1));
  EXPECT_NEAR(both, 0.5 * (first + second), 1e-12);
  EXPECT_LT((g - 0.5 * (g1 + g2)).norm(), 1e-12);
}

TEST(ModelGradient, FullBatchInChunksEqualsOnePass) {
  auto model = make_model<double>("mlp:4-6-3");
  const Data d = random_data(11, 4, 3, 5);
  ModelObjective<double> chunked(model, d.features.data(), d.targets.data(), 11, {.chunk_rows = 3});
  ModelObjective<double> whole(model, d.features.data(), d.targets.data(), 11, {.chunk_rows = 64});
  Vector<double> x(chunked.size()), g1(x.size()), g2(x.size());
  model.initialize(x, 2);
  EXPECT_NEAR(chunked.value_and_gradient(x, g1), whole.value_and_gradient(x, g2), 1e-12);
  EXPECT_LT((g1 - g2).norm(), 1e-12);
}

// Outside training mode the chunks are shared among the threads: each
// thread count gives the single-thread result up to summation order, and
// the same thread count gives the same bits every time.
TEST(ModelGradient, FullBatchSharedAmongThreadsAgreesWithOneThread) {
  auto model = make_model<double>("mlp:4-6-3");
  const Data d = random_data(101, 4, 3, 6);
  ModelObjective<double> f(model, d.features.data(), d.targets.data(), 101, {.chunk_rows = 7, .training = false});
  Vector<double> x(f.size()), g1(x.size()), g(x.size()), again(x.size());
  model.initialize(x, 3);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const double v1 = f.value_and_gradient(x, g1);
  for (const int threads : {2, 3, 4, 32}) {
    SCOPED_TRACE(threads);
    omp_set_num_threads(threads);
    const double v = f.value_and_gradient(x, g);
    EXPECT_NEAR(v, v1, 1e-13);
    EXPECT_LT((g - g1).cwiseAbs().maxCoeff(), 1e-13);
    EXPECT_EQ(f.value_and_gradient(x, again), v);
    EXPECT_EQ(again, g);
    EXPECT_EQ(f.value(x), v);
  }
  omp_set_num_threads(saved);
}

TEST(ModelSpec, BuildsTheNamedArchitectures) {
  const auto mlp = make_model<float>("mlp:784-256-128-10");
  EXPECT_EQ(mlp.num_parameters(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  EXPECT_EQ(mlp.loss().kind, LossKind::cross_entropy);
  EXPECT_EQ(mlp.layout().segments()[0].name, "0.weight");
  EXPECT_EQ(mlp.layout().segments()[0].rows, 256);
  EXPECT_EQ(mlp.layout().segments()[1].decay, 0.0);  // biases are not decayed

  const auto lenet = make_model<float>("cnn:lenet");
  EXPECT_EQ(lenet.num_parameters(), 51902);  // PyTorch's count for the same network
  EXPECT_EQ(lenet.input_shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(lenet.output_shape(), (Shape{10}));

  EXPECT_EQ(make_model<double>("linear:3").loss().kind, LossKind::mse);
  EXPECT_EQ(make_model<double>("logistic:3").loss().kind, LossKind::bce);
  EXPECT_EQ(make_model<double>("logistic:3-4").loss().kind, LossKind::cross_entropy);
  EXPECT_EQ(make_model<double>("mlp:3-8-1:tanh").loss().kind, LossKind::mse);
}

TEST(ModelSpec, RejectsMalformedSpecsWithTheReason) {
  for (const char* bad : {"mlp", "mlp:784", "mlp:784-0-10", "mlp:784-x-10", "mlp:4-3:swish", "cnn:resnet",
                          "logistic:4-1", "linear:2-3-4", "tree:3"}) {
    try {
      make_model<float>(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(ModelSpec, RejectsSizesWhoseParameterCountWouldOverflow) {
  // Layer sizes whose products overflow 64 bits (found by fuzzing), and
  // counts that fit but exceed 2^40 parameters.
  for (const char* huge : {"linear:00000000000000000000001841969-5553858101016802", "mlp:4294967296-4294967296",
                           "mlp:9223372036854775807-2", "logistic:1099511627776", "mlp:1048576-1048576-10",
                           "mlp:2-1048576-1048576"}) {
    try {
      make_model<float>(huge);
      ADD_FAILURE() << huge << " was accepted";
    } catch (const invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("more than 2^40 parameters"), std::string::npos) << e.what();
    }
  }
  // Just under the limit: built (the layout only; nothing is allocated).
  EXPECT_EQ(make_model<float>("linear:1099511627775").num_parameters(), Index(1) << 40);
}

TEST(Initializers, DrawFromTheDocumentedDistributionsReproducibly) {
  std::vector<double> w(20000);
  Rng rng(11);
  initialize<double>(w, 100, 300, {.method = Init::xavier_uniform, .gain = 1.0}, rng);
  const double bound = std::sqrt(6.0 / 400);
  for (double v : w) ASSERT_LE(std::abs(v), bound);
  const auto stddev = [&] {
    double s = 0;
    for (double v : w) s += v * v;
    return std::sqrt(s / double(w.size()));
  };
  EXPECT_NEAR(stddev(), bound / std::sqrt(3.0), 0.02 * bound);

  initialize<double>(w, 50, 10, {.method = Init::kaiming_normal, .gain = std::sqrt(2.0)}, rng);
  EXPECT_NEAR(stddev(), std::sqrt(2.0 / 50), 0.02 * std::sqrt(2.0 / 50));

  std::vector<double> a(10), b(10);
  Rng r1(3), r2(3);
  initialize<double>(a, 4, 4, {.method = Init::kaiming_uniform}, r1);
  initialize<double>(b, 4, 4, {.method = Init::kaiming_uniform}, r2);
  EXPECT_EQ(a, b);

  initialize<double>(a, 4, 4, {.method = Init::constant, .value = 0.25}, r1);
  for (double v : a) EXPECT_EQ(v, 0.25);
  EXPECT_EQ(parse_init("xavier_normal"), Init::xavier_normal);
  EXPECT_THROW(parse_init("orthogonal"), invalid_argument);
}

TEST(LinearRegression, LbfgsRecoversTheCoefficients) {
  // y = 2 x0 - 3 x1 + 0.5 x2 + 1, exactly.
  const Index n = 50;
  Rng rng(1);
  std::vector<double> features, targets;
  for (Index i = 0; i < n; ++i) {
    const double a = rng.normal(), b = rng.normal(), c = rng.normal();
    features.insert(features.end(), {a, b, c});
    targets.push_back(2 * a - 3 * b + 0.5 * c + 1);
  }
  auto model = make_model<double>("linear:3");
  ModelObjective<double> f(model, features.data(), targets.data(), n);
  Vector<double> x(f.size());
  model.initialize(x, 0);
  const auto result = lbfgs(f, x, LbfgsOptions{.stop = {.gradient_tolerance = 1e-10}});
  EXPECT_TRUE(result.converged()) << result.message;
  EXPECT_NEAR(x[0], 2, 1e-6);
  EXPECT_NEAR(x[1], -3, 1e-6);
  EXPECT_NEAR(x[2], 0.5, 1e-6);
  EXPECT_NEAR(x[3], 1, 1e-6);  // the bias
}

// Two Gaussian blobs far apart: separable.
Data blobs(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Data d;
  for (Index i = 0; i < n; ++i) {
    const int label = int(i % 2);
    const double cx = label ? 3 : -3, cy = label ? -2 : 2;
    d.features.push_back(cx + rng.normal());
    d.features.push_back(cy + rng.normal());
    d.targets.push_back(label);
  }
  return d;
}

template <class T>
double accuracy(Model<T>& model, const Vector<T>& x, const Data& d) {
  Tape<T> tape;
  autograd::NoGradGuard<T> guard(tape);
  Rng rng(0);
  const Index n = static_cast<Index>(d.targets.size());
  std::vector<T> features(d.features.begin(), d.features.end());
  const auto out = model.forward(tape, x.data(), nullptr, tape.constant(features.data(), {n, 2}), false, rng);
  Index right = 0;
  for (Index i = 0; i < n; ++i) {
    Index predicted = 0;
    if (out.dim(1) == 1) {
      predicted = out.data()[i] > 0 ? 1 : 0;
    } else {
      for (Index k = 1; k < out.dim(1); ++k)
        if (out.data()[i * out.dim(1) + k] > out.data()[i * out.dim(1) + predicted]) predicted = k;
    }
    right += predicted == static_cast<Index>(d.targets[static_cast<std::size_t>(i)]);
  }
  return double(right) / double(n);
}

TEST(LogisticRegression, LbfgsSeparatesSeparableData) {
  const Data d = blobs(200, 2);
  for (const char* spec : {"logistic:2", "logistic:2-2"}) {
    auto model = make_model<double>(spec);
    ModelObjective<double> f(model, d.features.data(), d.targets.data(), 200);
    Vector<double> x(f.size());
    model.initialize(x, 0);
    const double start = f.value(x);
    lbfgs(f, x, LbfgsOptions{.stop = {.max_iterations = 100}});
    EXPECT_LT(f.value(x), 0.01 * start) << spec;
    EXPECT_EQ(accuracy(model, x, d), 1.0) << spec;
  }
}

TEST(Mlp, AdamFitsXorInFloat) {
  const std::vector<float> features{0, 0, 0, 1, 1, 0, 1, 1};
  const std::vector<float> targets{0, 1, 1, 0};
  auto model = make_model<float>("mlp:2-16-2:tanh");
  ModelObjective<float> f(model, features.data(), targets.data(), 4);
  Vector<float> x(f.size()), g(f.size());
  model.initialize(x, 4);
  auto adam = optim::make_stepper<float>("adam", model.layout(), x);
  for (int step = 0; step < 500; ++step) {
    f.value_and_gradient(x, g);
    adam->step(x, g, 0.02f);
  }
  EXPECT_LT(f.value_and_gradient(x, g), 0.05f);
}

TEST(Model, SummaryListsLayersAndParameterCount) {
  const auto lenet = make_model<float>("cnn:lenet");
  const std::string s = lenet.summary();
  EXPECT_NE(s.find("Conv2d(1, 6, kernel_size=5, stride=1, padding=2)"), std::string::npos) << s;
  EXPECT_NE(s.find("MaxPool2d(kernel_size=2, stride=2, padding=0)"), std::string::npos) << s;
  EXPECT_NE(s.find("51902 parameters"), std::string::npos) << s;
}

TEST(Model, RejectsInputsAndLabelsThatDoNotFit) {
  auto model = make_model<double>("mlp:4-3");
  std::vector<double> features(8, 0.0), labels{0, 3};
  EXPECT_THROW(ModelObjective<double>(model, features.data(), labels.data(), 2), invalid_argument);
  labels[1] = 1.5;
  EXPECT_THROW(ModelObjective<double>(model, features.data(), labels.data(), 2), invalid_argument);
  labels[1] = 2;
  ModelObjective<double> f(model, features.data(), labels.data(), 2);
  Vector<double> x(f.size()), g(f.size());
  const std::vector<Index> bad_rows{0, 2};
  EXPECT_THROW(f.value_and_gradient(x, g, bad_rows), invalid_argument);
  EXPECT_THROW(Linear<double>(0, 3), invalid_argument);
  auto net = std::make_unique<Sequential<double>>();
  net->add<Linear<double>>(5, 3);
  EXPECT_THROW(Model<double>(std::move(net), Shape{4}, Loss{}), invalid_argument);
}

}  // namespace
}  // namespace descent::nn

namespace descent::nn {
namespace {

TEST(ModelObjective, L2PenalizesWeightsButNotBiases) {
  auto model = make_model<double>("mlp:3-4-2");
  const Data d = random_data(5, 3, 2, 8);
  ModelObjective<double> plain(model, d.features.data(), d.targets.data(), 5);
  ModelObjective<double> decayed(model, d.features.data(), d.targets.data(), 5, {.l2 = 0.3});
  Vector<double> x(plain.size());
  model.initialize(x, 2);
  x.array() += 0.5;  // biases not zero, so that leaving them out shows
  double weights = 0;
  for (const auto& s : model.layout().segments())
    if (s.decay != 0) weights += x.segment(s.offset, s.length).squaredNorm();
  EXPECT_NEAR(decayed.value(x) - plain.value(x), 0.15 * weights, 1e-12);
  expect_gradient_matches(decayed, x, 1e-6);
  EXPECT_THROW(ModelObjective<double>(model, d.features.data(), d.targets.data(), 5, {.l2 = -1}), invalid_argument);
}

}  // namespace
}  // namespace descent::nn
