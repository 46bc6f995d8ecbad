#pragma once
// FUZZ_CHECK(cond): a fuzz target's oracle. On failure it names the check and aborts, which
// libFuzzer reports as a crash (saving the input) and a corpus replay as a failed test.
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
