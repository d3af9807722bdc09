// Heap bytes held by allocations the calling thread made and has not freed, for the harness's
// per-probe memory figures. mallinfo2() sums every arena of the process, and the fleet runs in
// the same process: its server-side SSLs and buffers would be counted as the client's. Linking
// thread_heap.cc replaces malloc and friends in the executable (glibc supports that) with thin
// wrappers around glibc's own allocator that add or subtract each block's usable size on the
// thread that allocates or frees it. Blocks freed by another thread than the one that allocated
// them skew both threads' figures; the harness's probing thread and the fleet's share none.
#ifndef MXRAY_BENCH_THREAD_HEAP_H_
#define MXRAY_BENCH_THREAD_HEAP_H_

#include <cstdint>

namespace mxray::bench {

// Usable bytes allocated minus freed by this thread since it started (glibc's usable sizes, so
// comparable to mallinfo2's uordblks but not including its chunk headers).
int64_t ThreadHeapBytes();

}  // namespace mxray::bench

#endif  // MXRAY_BENCH_THREAD_HEAP_H_
