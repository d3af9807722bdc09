// malloc, free and the rest forwarded to glibc's allocator (its __libc_* entry points), counting
// usable sizes per thread (thread_heap.h). The counter is a plain initial-exec thread_local: no
// allocation and no lock on the allocation path.
#include "bench/thread_heap.h"

#include <errno.h>
#include <malloc.h>
#include <stddef.h>

extern "C" {
void* __libc_malloc(size_t size);
void __libc_free(void* p);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
}

namespace {

__attribute__((tls_model("initial-exec"))) thread_local int64_t heap_bytes = 0;

inline void* Counted(void* p) {
  if (p != nullptr) heap_bytes += int64_t(malloc_usable_size(p));
  return p;
}

inline void Uncount(void* p) {
  if (p != nullptr) heap_bytes -= int64_t(malloc_usable_size(p));
}

}  // namespace

namespace mxray::bench {

int64_t ThreadHeapBytes() { return heap_bytes; }

}  // namespace mxray::bench

extern "C" {

void* malloc(size_t size) { return Counted(__libc_malloc(size)); }

void free(void* p) {
  Uncount(p);
  __libc_free(p);
}

void* calloc(size_t n, size_t size) { return Counted(__libc_calloc(n, size)); }

void* realloc(void* p, size_t size) {
  const int64_t old = p ? int64_t(malloc_usable_size(p)) : 0;
  void* q = __libc_realloc(p, size);
  // On failure the old block is still there (unless size was 0, which freed it).
  if (q == nullptr && size != 0) return nullptr;
  heap_bytes -= old;
  return Counted(q);
}

void* reallocarray(void* p, size_t n, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(n, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, bytes);
}

void* memalign(size_t alignment, size_t size) { return Counted(__libc_memalign(alignment, size)); }

void* aligned_alloc(size_t alignment, size_t size) {
  return Counted(__libc_memalign(alignment, size));
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = Counted(p);
  return 0;
}

void* valloc(size_t size) { return Counted(__libc_valloc(size)); }

void* pvalloc(size_t size) { return Counted(__libc_pvalloc(size)); }

}  // extern "C"
