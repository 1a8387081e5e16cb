// env_test.cpp -- GMP_DEBUG parsing (core/env.cpp): every key, string
// values (trace=FILE), and values that leave a setting off.
#include "core/env.hpp"

#include <gtest/gtest.h>
#include <string.h>

#include <string>

using namespace gmprt;

TEST(EnvDebug, ParsesEveryKey) {
  DebugVars d;
  env_parse_debug(
      "randomize=1,schedtrace=250,scheddetail=1,stallreport=50,sigquit=1,trace=/tmp/t.json", &d);
  EXPECT_TRUE(d.randomize);
  EXPECT_EQ(d.schedtrace_ms, 250);
  EXPECT_TRUE(d.scheddetail);
  EXPECT_EQ(d.stallreport_ms, 50);
  EXPECT_TRUE(d.sigquit);
  EXPECT_STREQ(d.trace_file, "/tmp/t.json");
}

TEST(EnvDebug, DefaultsAreOff) {
  DebugVars d;
  env_parse_debug(nullptr, &d);
  env_parse_debug("", &d);
  env_parse_debug("sigquit=x,schedtrace=-1,unknown=1,trace=", &d);
  EXPECT_FALSE(d.sigquit);
  EXPECT_EQ(d.schedtrace_ms, 0);
  EXPECT_EQ(d.trace_file[0], 0);
  env_parse_debug("sigquit=0", &d);
  EXPECT_FALSE(d.sigquit);
}

// A trace path too long for the buffer leaves tracing off rather than
// writing to a truncated name.
TEST(EnvDebug, TooLongTracePathIsIgnored) {
  DebugVars d;
  std::string v = "trace=/" + std::string(sizeof d.trace_file, 'x');
  env_parse_debug(v.c_str(), &d);
  EXPECT_EQ(d.trace_file[0], 0);
  env_parse_debug("trace=/a/b.json,sigquit=1", &d);  // the value ends at the comma
  EXPECT_STREQ(d.trace_file, "/a/b.json");
  EXPECT_TRUE(d.sigquit);
}
