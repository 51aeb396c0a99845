// The DSP of processors/biquad-wasm.js: the Audio EQ Cookbook biquad of
// processors/biquad.js, in C, compiled to WebAssembly by clang (build.sh).
//
// The arithmetic is the JavaScript processor's, operation for operation and in
// double precision (wasm has no fused multiply-add, and clang keeps the order
// without -ffast-math); cos, sin and pow are the page's own Math functions,
// imported. So in one engine the two processors give the same samples.
//
// Memory: the processor writes up to MAX_CHANNELS planar input channels of 128
// frames and the `frequency` values (128, or 1 when constant) into the buffers
// whose addresses the exports return, calls process(), and reads the output.

#define QUANTUM 128
#define MAX_CHANNELS 8

__attribute__((import_module("math"), import_name("cos"))) double js_cos(double);
__attribute__((import_module("math"), import_name("sin"))) double js_sin(double);
__attribute__((import_module("math"), import_name("pow"))) double js_pow(double, double);

enum { LOWPASS, HIGHPASS, BANDPASS, NOTCH, PEAKING, LOWSHELF, HIGHSHELF };

static float input[MAX_CHANNELS][QUANTUM];
static float output[MAX_CHANNELS][QUANTUM];
static float frequency[QUANTUM];
// Per channel: x1, x2, y1, y2.
static double state[MAX_CHANNELS][4];
static double c[5];

__attribute__((export_name("inputs"))) float *inputs(void) { return &input[0][0]; }
__attribute__((export_name("outputs"))) float *outputs(void) { return &output[0][0]; }
__attribute__((export_name("frequencies"))) float *frequencies(void) { return frequency; }
__attribute__((export_name("maxChannels"))) int max_channels(void) { return MAX_CHANNELS; }

static void coefficients(int type, double f, double q, double gain_db, double rate) {
  double lo = f < 1 ? 1 : f;
  double hi = rate / 2 - 1;
  double w0 = (2 * 3.141592653589793 * (lo > hi ? hi : lo)) / rate;
  double cs = js_cos(w0);
  double alpha = js_sin(w0) / (2 * q);
  double a = js_pow(10, gain_db / 40);
  double b0, b1, b2, a0, a1, a2, s;
  switch (type) {
    case HIGHPASS:
      b0 = (1 + cs) / 2; b1 = -(1 + cs); b2 = (1 + cs) / 2; a0 = 1 + alpha; a1 = -2 * cs; a2 = 1 - alpha;
      break;
    case BANDPASS:
      b0 = alpha; b1 = 0; b2 = -alpha; a0 = 1 + alpha; a1 = -2 * cs; a2 = 1 - alpha;
      break;
    case NOTCH:
      b0 = 1; b1 = -2 * cs; b2 = 1; a0 = 1 + alpha; a1 = -2 * cs; a2 = 1 - alpha;
      break;
    case PEAKING:
      b0 = 1 + alpha * a; b1 = -2 * cs; b2 = 1 - alpha * a; a0 = 1 + alpha / a; a1 = -2 * cs; a2 = 1 - alpha / a;
      break;
    case LOWSHELF:
      s = 2 * __builtin_sqrt(a) * alpha;
      b0 = a * ((a + 1) - (a - 1) * cs + s); b1 = 2 * a * ((a - 1) - (a + 1) * cs); b2 = a * ((a + 1) - (a - 1) * cs - s);
      a0 = (a + 1) + (a - 1) * cs + s; a1 = -2 * ((a - 1) + (a + 1) * cs); a2 = (a + 1) + (a - 1) * cs - s;
      break;
    case HIGHSHELF:
      s = 2 * __builtin_sqrt(a) * alpha;
      b0 = a * ((a + 1) + (a - 1) * cs + s); b1 = -2 * a * ((a - 1) + (a + 1) * cs); b2 = a * ((a + 1) + (a - 1) * cs - s);
      a0 = (a + 1) - (a - 1) * cs + s; a1 = 2 * ((a - 1) - (a + 1) * cs); a2 = (a + 1) - (a - 1) * cs - s;
      break;
    default:
      b0 = (1 - cs) / 2; b1 = 1 - cs; b2 = (1 - cs) / 2; a0 = 1 + alpha; a1 = -2 * cs; a2 = 1 - alpha;
  }
  c[0] = b0 / a0; c[1] = b1 / a0; c[2] = b2 / a0; c[3] = a1 / a0; c[4] = a2 / a0;
}

// Filters `channels` channels of `frames` frames. `frequencies` is 1 (constant
// for the quantum) or `frames` (a-rate automation).
__attribute__((export_name("process")))
void process(int type, int channels, int frames, int frequencies, double q, double gain_db, double rate) {
  coefficients(type, frequency[0], q, gain_db, rate);
  for (int ch = 0; ch < channels && ch < MAX_CHANNELS; ch++) {
    const float *x = input[ch];
    float *y = output[ch];
    double *st = state[ch];
    double x1 = st[0], x2 = st[1], y1 = st[2], y2 = st[3];
    for (int i = 0; i < frames; i++) {
      if (frequencies > 1) coefficients(type, frequency[i], q, gain_db, rate);
      double xi = x[i];
      double out = c[0] * xi + c[1] * x1 + c[2] * x2 - c[3] * y1 - c[4] * y2;
      x2 = x1; x1 = xi; y2 = y1; y1 = out;
      y[i] = (float)out;
    }
    st[0] = x1; st[1] = x2; st[2] = y1; st[3] = y2;
  }
}
