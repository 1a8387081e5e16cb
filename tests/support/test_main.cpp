// test_main.cpp -- main() of the black-box test binaries.
//
// Runs a child body when asked (child_process.hpp), else GoogleTest.
#include <gtest/gtest.h>

#include "child_process.hpp"

int main(int argc, char** argv) {
  gmprt_test::child_main(argc, argv);  // returns only when argv names no child
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
