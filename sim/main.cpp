// npusim entry point. SystemC's library owns main() only when we do not
// define one; we define it to silence SystemC's banner before the kernel
// starts, then hand over to the kernel, which calls sc_main.
#include <cstdlib>

#include <systemc>

#include "sim/cli.h"

int sc_main(int argc, char** argv) { return npusim::run_cli(argc, argv); }

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
