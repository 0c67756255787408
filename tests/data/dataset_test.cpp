#include "descent/data/dataset.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "descent/core/error.hpp"

namespace descent::data {
namespace {

// rows x 2 features whose values say where they are: x(i, 0) = i,
// x(i, 1) = 1000 + i; target i % 3.
Dataset numbered(Index rows) {
  Dataset d;
  d.rows = rows;
  d.features = 2;
  d.source = "numbered";
  for (Index i = 0; i < rows; ++i) {
    d.x.push_back(static_cast<float>(i));
    d.x.push_back(static_cast<float>(1000 + i));
    d.y.push_back(static_cast<float>(i % 3));
  }
  return d;
}

std::vector<Index> row_ids(const Dataset& d) {
  std::vector<Index> ids;
  for (Index i = 0; i < d.rows; ++i) {
    EXPECT_EQ(d.row(i)[1], d.row(i)[0] + 1000) << "row " << i << " was torn apart";
    EXPECT_EQ(d.target(i)[0], static_cast<float>(static_cast<Index>(d.row(i)[0]) % 3));
    ids.push_back(static_cast<Index>(d.row(i)[0]));
  }
  return ids;
}

bool is_permutation_of_iota(std::vector<Index> v) {
  std::sort(v.begin(), v.end());
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] != static_cast<Index>(i)) return false;
  return true;
}

TEST(DatasetClasses, CountsIntegerLabelsFromZero) {
  Dataset d = numbered(10);
  EXPECT_EQ(d.classes(), 3);
  d.y = {0, 0, 7, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(d.classes(), 8);
}

TEST(DatasetClasses, IsZeroForRegressionTargets) {
  Dataset d = numbered(3);
  d.y = {0.0f, 1.5f, 2.0f};
  EXPECT_EQ(d.classes(), 0);
  d.y = {0.0f, -1.0f, 2.0f};
  EXPECT_EQ(d.classes(), 0);
  d.y = {0.0f, NAN, 2.0f};
  EXPECT_EQ(d.classes(), 0);
  EXPECT_EQ(Dataset{}.classes(), 0);
  Dataset two = numbered(2);
  two.targets = 2;
  two.y = {0, 1, 1, 0};
  EXPECT_EQ(two.classes(), 0);
}

TEST(OneHot, ExpandsLabelsToRowsOfClassTargets) {
  Dataset d = numbered(4);  // labels 0 1 2 0
  EXPECT_FALSE(is_one_hot(d) && d.targets > 1);
  one_hot(d, 4);
  EXPECT_EQ(d.targets, 4);
  EXPECT_EQ(d.y, (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0}));
  EXPECT_TRUE(is_one_hot(d));
  EXPECT_NO_THROW(d.validate());
  d.y[1] = 1;  // two ones in row 0
  EXPECT_FALSE(is_one_hot(d));
}

TEST(OneHot, RefusesLabelsOutsideTheClassesNamingTheRow) {
  Dataset d = numbered(4);
  try {
    one_hot(d, 2);  // row 2 has label 2
    ADD_FAILURE() << "label 2 of 2 classes was accepted";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("row 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(d.targets, 1);  // unchanged
  d.y[0] = 0.5f;
  EXPECT_THROW(one_hot(d, 3), invalid_argument);
  Dataset wide = numbered(2);
  wide.targets = 2;
  wide.y = {0, 1, 1, 0};
  EXPECT_THROW(one_hot(wide, 2), invalid_argument);
}

TEST(DatasetValidate, AcceptsConsistentSizesAndNamesWhatIsWrong) {
  Dataset d = numbered(4);
  EXPECT_NO_THROW(d.validate());
  d.x.pop_back();
  try {
    d.validate();
    FAIL() << "a short x was accepted";
  } catch (const descent::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("x holds 7 values, must hold rows * features = 4 * 2 = 8"), std::string::npos)
        << e.what();
  }
  d = numbered(4);
  d.y.push_back(0);
  EXPECT_THROW(d.validate(), descent::invalid_argument);
  d = numbered(4);
  d.feature_names = {"only one"};
  EXPECT_THROW(d.validate(), descent::invalid_argument);
}

TEST(Subset, TakesTheListedRowsInTheirOrder) {
  const Dataset d = numbered(6);
  const std::vector<Index> rows{4, 1, 1, 5};
  const Dataset s = subset(d, rows);
  EXPECT_EQ(s.rows, 4);
  EXPECT_EQ(s.features, 2);
  EXPECT_EQ(row_ids(s), rows);
  EXPECT_EQ(s.source, "numbered");
  const std::vector<Index> bad{0, 6};
  EXPECT_THROW(subset(d, bad), descent::invalid_argument);
  const std::vector<Index> negative{-1};
  EXPECT_THROW(subset(d, negative), descent::invalid_argument);
}

TEST(Split, GivesTheRoundedFractionToTheSecondPart) {
  const Dataset d = numbered(100);
  const Split s = split(d, 0.2, 7);
  EXPECT_EQ(s.first.rows, 80);
  EXPECT_EQ(s.second.rows, 20);
  EXPECT_EQ(split(numbered(10), 0.25, 7).second.rows, 3);  // 2.5 rounds up
  EXPECT_EQ(split(numbered(10), 0.24, 7).second.rows, 2);
  EXPECT_EQ(split(numbered(10), 0.0, 7).second.rows, 0);
  EXPECT_EQ(split(numbered(0), 0.5, 7).first.rows, 0);
}

TEST(Split, PartsAreDisjointAndCoverEveryRowOnce) {
  const Dataset d = numbered(101);
  const Split s = split(d, 0.3, 11);
  std::vector<Index> all = row_ids(s.first);
  const std::vector<Index> second = row_ids(s.second);
  std::set<Index> first_set(all.begin(), all.end());
  for (const Index i : second) EXPECT_FALSE(first_set.contains(i)) << "row " << i << " is in both parts";
  all.insert(all.end(), second.begin(), second.end());
  EXPECT_TRUE(is_permutation_of_iota(all));
  // Each part keeps the original order.
  const std::vector<Index> first_ids = row_ids(s.first);
  EXPECT_TRUE(std::is_sorted(first_ids.begin(), first_ids.end()));
  EXPECT_TRUE(std::is_sorted(second.begin(), second.end()));
}

TEST(Split, TheSameSeedGivesTheSameSplitAndAnotherSeedAnother) {
  const Dataset d = numbered(200);
  const Split a = split(d, 0.25, 3);
  const Split b = split(d, 0.25, 3);
  const Split c = split(d, 0.25, 4);
  EXPECT_EQ(row_ids(a.second), row_ids(b.second));
  EXPECT_EQ(a.first.x, b.first.x);
  EXPECT_NE(row_ids(a.second), row_ids(c.second));
}

TEST(Split, RejectsAFractionOutsideZeroToOne) {
  const Dataset d = numbered(10);
  EXPECT_THROW(split(d, 1.0, 1), descent::invalid_argument);
  EXPECT_THROW(split(d, -0.1, 1), descent::invalid_argument);
  EXPECT_THROW(split(d, NAN, 1), descent::invalid_argument);
  try {
    split(d, 1.5, 1);
  } catch (const descent::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("fraction = 1.5, must be in [0, 1)"), std::string::npos) << e.what();
  }
}

TEST(Shuffle, IsAPermutationReproducibleFromTheSeed) {
  Rng a(5), b(5), c(6);
  const std::vector<Index> first = shuffled_indices(1000, a);
  EXPECT_TRUE(is_permutation_of_iota(first));
  EXPECT_EQ(shuffled_indices(1000, b), first);
  EXPECT_NE(shuffled_indices(1000, c), first);
  std::vector<Index> identity(1000);
  std::iota(identity.begin(), identity.end(), Index{0});
  EXPECT_NE(first, identity);
}

TEST(Shuffle, InPlaceMatchesShuffledIndicesAndKeepsShuffling) {
  Rng a(9), b(9);
  std::vector<Index> in_place(50);
  std::iota(in_place.begin(), in_place.end(), Index{0});
  shuffle(in_place, a);
  EXPECT_EQ(in_place, shuffled_indices(50, b));
  const std::vector<Index> epoch1 = in_place;
  shuffle(in_place, a);
  EXPECT_TRUE(is_permutation_of_iota(in_place));
  EXPECT_NE(in_place, epoch1);
}

TEST(Shuffle, HandlesEmptyAndSingleAndRejectsNegative) {
  Rng rng(1);
  EXPECT_TRUE(shuffled_indices(0, rng).empty());
  EXPECT_EQ(shuffled_indices(1, rng), std::vector<Index>{0});
  EXPECT_THROW(shuffled_indices(-1, rng), descent::invalid_argument);
}

TEST(Shuffle, EveryPositionIsReachable) {
  // Each element lands in each of 4 positions over 4000 shuffles, about
  // 1000 times each (a biased Fisher-Yates would favour some).
  Rng rng(2);
  int count[4][4] = {};
  std::vector<Index> v(4);
  for (int run = 0; run < 4000; ++run) {
    std::iota(v.begin(), v.end(), Index{0});
    shuffle(v, rng);
    for (int p = 0; p < 4; ++p) ++count[v[static_cast<std::size_t>(p)]][p];
  }
  for (auto& element : count)
    for (const int c : element) EXPECT_NEAR(c, 1000, 150);
}

TEST(Standardizer, GivesMeanZeroAndUnitDeviationOnTheFitData) {
  Dataset d;
  d.rows = 5;
  d.features = 2;
  d.x = {1, 10, 2, 20, 3, 30, 4, 40, 10, 50};
  d.y = {0, 1, 0, 1, 0};
  const Standardizer s = Standardizer::fit(d);
  ASSERT_EQ(s.mean.size(), 2u);
  EXPECT_FLOAT_EQ(s.mean[0], 4.0f);
  EXPECT_FLOAT_EQ(s.mean[1], 30.0f);
  EXPECT_FLOAT_EQ(s.scale[0], std::sqrt(10.0f));  // population deviation
  s.apply(d);
  for (Index j = 0; j < 2; ++j) {
    double sum = 0, squares = 0;
    for (Index i = 0; i < d.rows; ++i) sum += d.row(i)[j];
    for (Index i = 0; i < d.rows; ++i) squares += d.row(i)[j] * d.row(i)[j];
    EXPECT_NEAR(sum / 5, 0.0, 1e-6);
    EXPECT_NEAR(squares / 5, 1.0, 1e-5);
  }
  EXPECT_EQ(d.y, (std::vector<float>{0, 1, 0, 1, 0}));  // targets untouched
}

TEST(Standardizer, MapsAConstantFeatureToZeroNotNaN) {
  Dataset d;
  d.rows = 60000;
  d.features = 2;
  for (Index i = 0; i < d.rows; ++i) {
    d.x.push_back(0.1f);  // sums inexactly in double
    d.x.push_back(static_cast<float>(i % 7));
  }
  d.y.assign(static_cast<std::size_t>(d.rows), 0.0f);
  const Standardizer s = Standardizer::fit(d);
  EXPECT_EQ(s.scale[0], 1.0f);
  s.apply(d);
  for (Index i = 0; i < d.rows; ++i) ASSERT_EQ(d.row(i)[0], 0.0f) << "row " << i;
}

TEST(Standardizer, AppliesTheFitStatisticsToOtherData) {
  Dataset fit_data;
  fit_data.rows = 2;
  fit_data.features = 1;
  fit_data.x = {0, 2};
  fit_data.y = {0, 0};
  const Standardizer s = Standardizer::fit(fit_data);
  Dataset other = fit_data;
  other.x = {5, -1};
  s.apply(other);
  EXPECT_FLOAT_EQ(other.x[0], 4.0f);
  EXPECT_FLOAT_EQ(other.x[1], -2.0f);
}

TEST(Standardizer, RejectsOtherFeatureCountsAndEmptyFitData) {
  const Standardizer s = Standardizer::fit(numbered(5));
  Dataset three;
  three.rows = 1;
  three.features = 3;
  three.x = {1, 2, 3};
  three.y = {0};
  EXPECT_THROW(s.apply(three), descent::invalid_argument);
  EXPECT_THROW(Standardizer::fit(numbered(0)), descent::invalid_argument);
}

}  // namespace
}  // namespace descent::data
