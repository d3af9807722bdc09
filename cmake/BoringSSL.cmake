# BoringSSL from Debian's android-libboringssl-dev, found explicitly on its android paths so that
# OpenSSL's headers and libraries (also installed on Debian machines) never enter the build.
set(BORINGSSL_INCLUDE_DIR /usr/include/android CACHE PATH "BoringSSL headers")
set(BORINGSSL_LIB_DIR /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/android CACHE PATH "BoringSSL libraries")
if(NOT CMAKE_LIBRARY_ARCHITECTURE)
  set(BORINGSSL_LIB_DIR /usr/lib/x86_64-linux-gnu/android CACHE PATH "" FORCE)
endif()

foreach(f openssl/base.h openssl/ssl.h)
  if(NOT EXISTS "${BORINGSSL_INCLUDE_DIR}/${f}")
    message(FATAL_ERROR "BoringSSL header ${BORINGSSL_INCLUDE_DIR}/${f} missing: install android-libboringssl-dev")
  endif()
endforeach()
# Only BoringSSL defines OPENSSL_IS_BORINGSSL; refuse to configure against anything else.
file(STRINGS "${BORINGSSL_INCLUDE_DIR}/openssl/base.h" _bssl_marker REGEX "#define OPENSSL_IS_BORINGSSL")
if(NOT _bssl_marker)
  message(FATAL_ERROR "${BORINGSSL_INCLUDE_DIR}/openssl is not BoringSSL")
endif()

foreach(lib crypto ssl)
  if(NOT EXISTS "${BORINGSSL_LIB_DIR}/lib${lib}.so")
    message(FATAL_ERROR "BoringSSL library ${BORINGSSL_LIB_DIR}/lib${lib}.so missing")
  endif()
  add_library(BoringSSL::${lib} SHARED IMPORTED GLOBAL)
  set_target_properties(BoringSSL::${lib} PROPERTIES
    IMPORTED_LOCATION "${BORINGSSL_LIB_DIR}/lib${lib}.so"
    IMPORTED_NO_SONAME FALSE
    INTERFACE_INCLUDE_DIRECTORIES "${BORINGSSL_INCLUDE_DIR}")
endforeach()
set_property(TARGET BoringSSL::ssl PROPERTY INTERFACE_LINK_LIBRARIES BoringSSL::crypto)
# The android folder is not on the loader path.
list(APPEND CMAKE_BUILD_RPATH "${BORINGSSL_LIB_DIR}")
list(APPEND CMAKE_INSTALL_RPATH "${BORINGSSL_LIB_DIR}")
