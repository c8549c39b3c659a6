// npusim entry point. SystemC's library owns main() only when we do not
// define one; we define it to silence SystemC's banner before the kernel
// starts, then hand over to the kernel, which calls sc_main.
#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <systemc>

#include "sim/cli.h"

int sc_main(int argc, char** argv) { return npusim::run_cli(argc, argv); }

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // Every job's programs are built, run and freed in turn. Left to glibc's
  // defaults, each large program buffer is a fresh mmap whose pages the
  // kernel zeroes on first touch; keeping them in the heap reuses them.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
