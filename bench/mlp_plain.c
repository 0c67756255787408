// The floor of `descent bench model --model mlp:784-256-128-10`: one training
// batch of the same MLP written out by hand in C, every matrix product a
// direct OpenBLAS cblas_sgemm call, nothing allocated while it is timed.
//
//   bench_mlp_plain [--batch-size B | B] [--threads T] [--seconds S] [--json]
//   bench_mlp_plain --sgemm-peak [--threads T] [--seconds S] [--json]
//
// The model: Linear 784->256, ReLU, Linear 256->128, ReLU, Linear 128->10,
// softmax cross-entropy averaged over the batch, float32, row-major. Weights
// are stored out x in (PyTorch's layout), so a layer is Y = X W^T + b.
// One batch (B samples) is
//   forward   H1 = relu(X W1^T + b1), H2 = relu(H1 W2^T + b2), Z = H2 W3^T + b3
//             (three sgemm, bias added and ReLU applied in one pass over each)
//   loss      log-sum-exp per row; dZ = (softmax(Z) - onehot(y)) / B
//   backward  dW3 = dZ^T H2, db3 = column sums of dZ
//             dH2 = (dZ W3) masked by H2 > 0
//             dW2 = dH2^T H1, db2
//             dH1 = (dH2 W2) masked by H1 > 0
//             dW1 = dH1^T X,  db1      (no dX: the input needs no gradient)
// i.e. 3 forward sgemm, 3 weight-gradient sgemm and 2 input-gradient sgemm.
// The gradients are written (beta = 0), the least work a batch can do.
//
// OpenBLAS runs on --threads threads (openblas_set_num_threads); the
// elementwise passes (bias, ReLU, softmax, masks) are plain single-threaded
// loops, vectorized by the compiler: at B = 128 they touch a few hundred KB.
// The time is the median over batches (at least 10, at most 1000, about
// --seconds) after three warm-up batches: the policy of descent bench model.
//
// --sgemm-peak instead times C = A B on 1024 x 1024 float32 matrices with the
// same threads (same policy) and reports 2 * 1024^3 / time as GFLOP/s: the
// matrix-product peak this machine reaches through OpenBLAS, against which
// bench/summarize_model.py puts descent's FLOP rate.
#define _POSIX_C_SOURCE 199309L  // clock_gettime next to C11
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// OpenBLAS's own entry points; declared here too in case cblas.h is another
// implementation's (the Debian alternative can point at netlib's).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

enum { kIn = 784, kH1 = 256, kH2 = 128, kOut = 10, kPeakN = 1024, kMaxSamples = 1000 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s [--batch-size B | B] [--threads T] [--seconds S] [--json]\n"
          "       %s --sgemm-peak [--threads T] [--seconds S] [--json]\n"
          "  Times forward + loss + backward of the MLP 784-256-128-10 (float32, OpenBLAS sgemm),\n"
          "  or with --sgemm-peak a 1024x1024x1024 sgemm. Prints one JSON object.\n"
          "  --batch-size  samples per batch (default 128)\n"
          "  --threads     OpenBLAS threads (default: OpenBLAS's own choice)\n"
          "  --seconds     time budget of the measurement (default 2)\n",
          argv0, argv0);
  exit(2);
}

static float* allocate(size_t n) {
  float* p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
  if (!p) {
    fprintf(stderr, "mlp_plain: out of memory (%zu floats)\n", n);
    exit(1);
  }
  return p;
}

// A small deterministic generator (xorshift64*), uniform in [-1, 1).
static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static float uniform(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  const unsigned long long r = rng_state * 0x2545F4914F6CDD1Dull;
  return (float)((double)(r >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static void fill(float* x, size_t n, float scale) {
  for (size_t i = 0; i < n; ++i) x[i] = scale * uniform();
}

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

struct mlp {
  int b;                                           // batch size
  const float* x;                                  // B x 784 inputs
  const int* y;                                    // B class labels
  float *w1, *b1, *w2, *b2, *w3, *b3;              // parameters (W out x in)
  float *gw1, *gb1, *gw2, *gb2, *gw3, *gb3;        // their gradients
  float *h1, *h2, *z;                              // activations
  float *dh1, *dh2, *dz;                           // gradients of the activations
  float loss;
};

// Y = act(X W^T + bias): X is rows x in, W is out x in, Y is rows x out.
static void linear_forward(int rows, int in, int out, const float* restrict x, const float* restrict w,
                           const float* restrict bias, float* restrict y, int relu) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  for (int i = 0; i < rows; ++i) {
    float* restrict yi = y + (size_t)i * out;
    if (relu)
      for (int j = 0; j < out; ++j) yi[j] = fmaxf(yi[j] + bias[j], 0.0f);
    else
      for (int j = 0; j < out; ++j) yi[j] += bias[j];
  }
}

// dW = dY^T X (out x in), db = column sums of dY.
static void linear_weight_gradient(int rows, int in, int out, const float* restrict x, const float* restrict dy,
                                   float* restrict dw, float* restrict db) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, rows, 1.0f, dy, out, x, in, 0.0f, dw, in);
  for (int j = 0; j < out; ++j) db[j] = 0.0f;
  for (int i = 0; i < rows; ++i) {
    const float* restrict dyi = dy + (size_t)i * out;
    for (int j = 0; j < out; ++j) db[j] += dyi[j];
  }
}

// dX = (dY W) masked by the layer input's ReLU (x > 0): dY is rows x out, W out x in.
static void linear_input_gradient_relu(int rows, int in, int out, const float* restrict dy, const float* restrict w,
                                       const float* restrict x, float* restrict dx) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
  const size_t n = (size_t)rows * in;
  for (size_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dx[i] : 0.0f;
}

// Mean softmax cross-entropy of the logits z (rows x classes); dz = its gradient.
static float cross_entropy(int rows, int classes, const float* restrict z, const int* restrict y,
                           float* restrict dz) {
  double total = 0;
  const float inv = 1.0f / (float)rows;
  for (int i = 0; i < rows; ++i) {
    const float* restrict zi = z + (size_t)i * classes;
    float* restrict di = dz + (size_t)i * classes;
    float m = zi[0];
    for (int j = 1; j < classes; ++j) m = fmaxf(m, zi[j]);
    float s = 0;
    for (int j = 0; j < classes; ++j) {
      di[j] = expf(zi[j] - m);
      s += di[j];
    }
    total += (double)(logf(s) + m - zi[y[i]]);
    const float scale = inv / s;
    for (int j = 0; j < classes; ++j) di[j] *= scale;
    di[y[i]] -= inv;
  }
  return (float)(total / rows);
}

static void batch(struct mlp* m) {
  const int b = m->b;
  linear_forward(b, kIn, kH1, m->x, m->w1, m->b1, m->h1, 1);
  linear_forward(b, kH1, kH2, m->h1, m->w2, m->b2, m->h2, 1);
  linear_forward(b, kH2, kOut, m->h2, m->w3, m->b3, m->z, 0);
  m->loss = cross_entropy(b, kOut, m->z, m->y, m->dz);
  linear_weight_gradient(b, kH2, kOut, m->h2, m->dz, m->gw3, m->gb3);
  linear_input_gradient_relu(b, kH2, kOut, m->dz, m->w3, m->h2, m->dh2);
  linear_weight_gradient(b, kH1, kH2, m->h1, m->dh2, m->gw2, m->gb2);
  linear_input_gradient_relu(b, kH1, kH2, m->dh2, m->w2, m->h1, m->dh1);
  linear_weight_gradient(b, kIn, kH1, m->x, m->dh1, m->gw1, m->gb1);
}

// Median seconds of one call, the policy of descent bench model.
typedef void (*work_fn)(void*);
static double median_seconds(work_fn run, void* arg, double budget, int* count_out) {
  static double samples[kMaxSamples];
  int count = 0;
  for (int i = 0; i < 3; ++i) run(arg);
  const double begin = now();
  while (count < kMaxSamples) {
    const double t0 = now();
    run(arg);
    const double t1 = now();
    samples[count++] = t1 - t0;
    if (count >= 10 && t1 - begin > budget) break;
  }
  qsort(samples, (size_t)count, sizeof(double), by_value);
  *count_out = count;
  return samples[count / 2];  // the upper median for an even count, as descent bench model
}

static void run_batch(void* arg) { batch((struct mlp*)arg); }

struct peak {
  const float *a, *b;
  float* c;
};
static void run_peak(void* arg) {
  const struct peak* p = arg;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kPeakN, kPeakN, kPeakN, 1.0f, p->a, kPeakN, p->b, kPeakN,
              0.0f, p->c, kPeakN);
}

static int sgemm_peak(int threads, double seconds) {
  const size_t n2 = (size_t)kPeakN * kPeakN;
  float *a = allocate(n2), *b = allocate(n2), *c = allocate(n2);
  fill(a, n2, 1.0f);
  fill(b, n2, 1.0f);
  memset(c, 0, n2 * sizeof(float));
  struct peak p = {a, b, c};
  int count;
  const double s = median_seconds(run_peak, &p, seconds, &count);
  const double flops = 2.0 * kPeakN * kPeakN * (double)kPeakN;
  printf("{\"program\": \"sgemm_peak\", \"threads\": %d, \"n\": %d, \"gflops\": %.6g, \"ms_per_sgemm\": %.6g, "
         "\"samples\": %d, \"checksum\": %.9g}\n",
         threads, kPeakN, flops / s / 1e9, s * 1e3, count, (double)c[12345]);
  free(a);
  free(b);
  free(c);
  return 0;
}

int main(int argc, char** argv) {
  int b = 128, threads = 0, peak = 0;
  double seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const int more = i + 1 < argc;
    if (!strcmp(a, "--batch-size") && more) b = atoi(argv[++i]);
    else if (!strcmp(a, "--threads") && more) threads = atoi(argv[++i]);
    else if (!strcmp(a, "--seconds") && more) seconds = strtod(argv[++i], NULL);
    else if (!strcmp(a, "--sgemm-peak")) peak = 1;
    else if (!strcmp(a, "--json")) continue;  // the output is always JSON
    else if (a[0] >= '0' && a[0] <= '9') b = atoi(a);
    else usage(argv[0]);
  }
  if (b < 1 || threads < 0 || !(seconds >= 0)) usage(argv[0]);
  if (threads > 0) openblas_set_num_threads(threads);
  threads = openblas_get_num_threads();
  if (peak) return sgemm_peak(threads, seconds);

  float* x = allocate((size_t)b * kIn);
  int* y = malloc((size_t)b * sizeof(int));
  if (!y) return 1;
  fill(x, (size_t)b * kIn, 1.0f);
  for (int i = 0; i < b; ++i) y[i] = (int)((uniform() + 1.0f) * 0.5f * kOut) % kOut;
  struct mlp m = {
      .b = b, .x = x, .y = y,
      .w1 = allocate((size_t)kH1 * kIn), .b1 = allocate(kH1),
      .w2 = allocate((size_t)kH2 * kH1), .b2 = allocate(kH2),
      .w3 = allocate((size_t)kOut * kH2), .b3 = allocate(kOut),
      .gw1 = allocate((size_t)kH1 * kIn), .gb1 = allocate(kH1),
      .gw2 = allocate((size_t)kH2 * kH1), .gb2 = allocate(kH2),
      .gw3 = allocate((size_t)kOut * kH2), .gb3 = allocate(kOut),
      .h1 = allocate((size_t)b * kH1), .h2 = allocate((size_t)b * kH2), .z = allocate((size_t)b * kOut),
      .dh1 = allocate((size_t)b * kH1), .dh2 = allocate((size_t)b * kH2), .dz = allocate((size_t)b * kOut),
  };
  // Uniform in +-1/sqrt(fan_in), PyTorch's default scale for Linear.
  fill(m.w1, (size_t)kH1 * kIn, 1.0f / sqrtf(kIn));
  fill(m.b1, kH1, 1.0f / sqrtf(kIn));
  fill(m.w2, (size_t)kH2 * kH1, 1.0f / sqrtf(kH1));
  fill(m.b2, kH2, 1.0f / sqrtf(kH1));
  fill(m.w3, (size_t)kOut * kH2, 1.0f / sqrtf(kH2));
  fill(m.b3, kOut, 1.0f / sqrtf(kH2));

  int count;
  const double s = median_seconds(run_batch, &m, seconds, &count);
  // A use of the results, so that no pass can be dropped as dead code.
  double checksum = m.loss;
  for (int j = 0; j < kH1; ++j) checksum += m.gb1[j] + m.gw1[(size_t)j * kIn + j];
  const long parameters = (long)kH1 * (kIn + 1) + (long)kH2 * (kH1 + 1) + (long)kOut * (kH2 + 1);
  printf("{\"program\": \"plain_c_mlp\", \"model\": \"mlp:784-256-128-10\", \"batch_size\": %d, \"threads\": %d, "
         "\"parameters\": %ld, \"ms_per_batch\": %.6g, \"samples_per_second\": %.6g, \"samples\": %d, "
         "\"loss\": %.6g, \"checksum\": %.9g}\n",
         b, threads, parameters, s * 1e3, b / s, count, (double)m.loss, checksum);

  float* owned[] = {x, m.w1, m.b1, m.w2, m.b2, m.w3, m.b3, m.gw1, m.gb1, m.gw2, m.gb2, m.gw3, m.gb3,
                    m.h1, m.h2, m.z, m.dh1, m.dh2, m.dz};
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; ++i) free(owned[i]);
  free(y);
  return 0;
}
