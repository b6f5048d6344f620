# cmake -DHEADERS_DIR=<dir> -DOUTPUT=<file> -P netloom_abi_version.cmake
#
# Writes <file>, the header that defines netloom::kAbiVersion: the first 32 bits of a SHA-256
# over every .hpp under HEADERS_DIR (the plugin ABI, host/include/netloom), each file's SHA-256
# and path relative to HEADERS_DIR, in path order. Any change to an ABI header (a byte of one,
# a file added, removed or renamed) gives another version, so the host refuses a plugin compiled
# against other headers without anyone remembering to bump a number. host/CMakeLists.txt runs
# it at build time whenever a header changes; the result lives in the build tree, never in git.
# The file is rewritten only when its content changes.
if(NOT HEADERS_DIR OR NOT OUTPUT)
  message(FATAL_ERROR "usage: cmake -DHEADERS_DIR=<dir> -DOUTPUT=<file> -P ${CMAKE_CURRENT_LIST_FILE}")
endif()
file(GLOB_RECURSE headers RELATIVE ${HEADERS_DIR} ${HEADERS_DIR}/*.hpp)
if(NOT headers)
  message(FATAL_ERROR "no .hpp under ${HEADERS_DIR}")
endif()
list(SORT headers)
set(manifest "")
foreach(header ${headers})
  file(SHA256 ${HEADERS_DIR}/${header} digest)
  string(APPEND manifest "${digest}  ${header}\n")
endforeach()
string(SHA256 abi_sha256 "${manifest}")
string(SUBSTRING ${abi_sha256} 0 8 abi_hex)
if(abi_hex STREQUAL "00000000")
  set(abi_hex 00000001)  # 0 is no version
endif()
list(LENGTH headers count)

file(WRITE ${OUTPUT}.tmp "\
// abi_version.hpp — generated at build time by cmake/netloom_abi_version.cmake; do not edit,
// do not commit. kAbiVersion is the first 32 bits of a SHA-256 over the ${count} ABI headers
// (host/include/netloom/**.hpp: each file's SHA-256 and relative path), so any change to them
// changes it and the host refuses plugins built against other headers.
#pragma once

#include <cstdint>

namespace netloom {

inline constexpr std::uint32_t kAbiVersion = 0x${abi_hex}u;
/// The whole SHA-256 the version is cut from.
inline constexpr const char* kAbiHeadersSha256 = \"${abi_sha256}\";

}  // namespace netloom
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
