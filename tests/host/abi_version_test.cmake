# cmake -DSCRIPT=<cmake/netloom_abi_version.cmake> -DWORK=<scratch dir> -DHEADERS_DIR=<ABI headers>
#       -DBUILT=<the build's netloom/abi_version.hpp> -P abi_version_test.cmake
#
# kAbiVersion follows the ABI headers: the same headers give the same version, a one-byte change,
# a new header or a renamed one give another, and the build's generated header matches the
# headers it was built from (run after a build; a header edited since makes it fail: rebuild).
function(version_of dir out)
  execute_process(COMMAND ${CMAKE_COMMAND} -DHEADERS_DIR=${dir} -DOUTPUT=${WORK}/out.hpp -P ${SCRIPT}
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "netloom_abi_version.cmake failed on ${dir}: ${err}")
  endif()
  file(STRINGS ${WORK}/out.hpp line REGEX "kAbiVersion = 0x[0-9a-f]+u;")
  string(REGEX MATCH "0x[0-9a-f]+" version "${line}")
  if(NOT version)
    message(FATAL_ERROR "no kAbiVersion in the generated header of ${dir}")
  endif()
  set(${out} ${version} PARENT_SCOPE)
endfunction()

function(expect_different a b what)
  if(a STREQUAL b)
    message(FATAL_ERROR "${what}: kAbiVersion stayed ${a}")
  endif()
  message(STATUS "${what}: ${a} -> ${b}")
endfunction()

file(REMOVE_RECURSE ${WORK})
set(sdk ${WORK}/sdk)
file(WRITE ${sdk}/tcp.hpp "struct TcpInfo { int cwnd; };\n")
file(WRITE ${sdk}/wire/tcp.hpp "struct TcpView { int a; };\n")
version_of(${sdk} base)
version_of(${sdk} again)
if(NOT base STREQUAL again)
  message(FATAL_ERROR "the same headers gave ${base}, then ${again}")
endif()

file(WRITE ${sdk}/tcp.hpp "struct TcpInfo { long cwnd; };\n")
version_of(${sdk} changed)
expect_different(${base} ${changed} "a changed field type")

file(WRITE ${sdk}/tcp.hpp "struct TcpInfo { int cwnd; };\n")  # back to the original
version_of(${sdk} restored)
if(NOT restored STREQUAL base)
  message(FATAL_ERROR "the original headers gave ${base}, restored they give ${restored}")
endif()

file(WRITE ${sdk}/wire/tcp.hpp "struct TcpView { int a; };\n\n")  # a header in a subfolder
version_of(${sdk} subfolder)
expect_different(${base} ${subfolder} "a change in wire/tcp.hpp")
file(WRITE ${sdk}/wire/tcp.hpp "struct TcpView { int a; };\n")

file(WRITE ${sdk}/new.hpp "\n")
version_of(${sdk} added)
expect_different(${base} ${added} "a new header")
file(REMOVE ${sdk}/new.hpp)

file(RENAME ${sdk}/tcp.hpp ${sdk}/tcp2.hpp)
version_of(${sdk} renamed)
expect_different(${base} ${renamed} "a renamed header")

# The build's header is the one its ABI headers give now.
if(NOT EXISTS ${BUILT})
  message(FATAL_ERROR "${BUILT} does not exist: build netloom_sdk first")
endif()
version_of(${HEADERS_DIR} current)
file(STRINGS ${BUILT} line REGEX "kAbiVersion = 0x[0-9a-f]+u;")
string(REGEX MATCH "0x[0-9a-f]+" built "${line}")
if(NOT built STREQUAL current)
  message(FATAL_ERROR "${BUILT} has ${built} but ${HEADERS_DIR} gives ${current}: rebuild")
endif()
message(STATUS "this build's kAbiVersion: ${built}")
file(REMOVE_RECURSE ${WORK})
