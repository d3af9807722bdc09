// MXRAY_CHECK: crash with a message on a broken invariant (never on bad input from the network).
#ifndef MXRAY_IO_CHECK_H_
#define MXRAY_IO_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define MXRAY_CHECK(cond)                                                               \
  do {                                                                                  \
    if (!(cond)) [[unlikely]] {                                                         \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#endif  // MXRAY_IO_CHECK_H_
