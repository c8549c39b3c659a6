// Entry point for every test executable. SystemC's library owns main() and
// calls sc_main(); we run GoogleTest from there so tests may elaborate models.
#include <cstdlib>

#include <gtest/gtest.h>
#include <systemc>

int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
