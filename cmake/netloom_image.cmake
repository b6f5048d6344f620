# netloom-image: one fully static executable with the plugins that NETLOOM_IMAGE_CONFIG names
# and the config itself compiled in (the "unikernel" build: the composition is chosen once).
if(NOT EXISTS "${NETLOOM_IMAGE_CONFIG}")
  message(FATAL_ERROR "NETLOOM_IMAGE_CONFIG: no such file: ${NETLOOM_IMAGE_CONFIG}")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${NETLOOM_IMAGE_CONFIG}")
file(READ "${NETLOOM_IMAGE_CONFIG}" image_yaml)
if(image_yaml MATCHES "\\)netloom_yaml\"")
  message(FATAL_ERROR "${NETLOOM_IMAGE_CONFIG} contains the embedding delimiter )netloom_yaml\"")
endif()

# Every `use: <name>` in the config (including A/B overrides such as `tcp.use: x`), plus the
# defaults the host falls back to when the config names no scheduler or checksum.
string(REGEX MATCHALL "use:[ \t]*[A-Za-z0-9_]+" uses "${image_yaml}")
set(image_plugins epoll fast)
foreach(u ${uses})
  string(REGEX REPLACE "use:[ \t]*" "" name "${u}")
  list(APPEND image_plugins ${name})
endforeach()
list(REMOVE_DUPLICATES image_plugins)
get_property(all_plugins GLOBAL PROPERTY NETLOOM_PLUGINS)
set(image_objects)
set(image_libs)
foreach(name ${image_plugins})
  if(NOT name IN_LIST all_plugins)
    message(FATAL_ERROR "${NETLOOM_IMAGE_CONFIG} uses plugin '${name}', which this tree does not build "
                        "(known: ${all_plugins})")
  endif()
  list(APPEND image_objects $<TARGET_OBJECTS:netloom_${name}>)
  list(APPEND image_libs netloom_${name}_impl)
endforeach()
message(STATUS "netloom-image: ${NETLOOM_IMAGE_CONFIG} with plugins: ${image_plugins}")

get_filename_component(image_config_name "${NETLOOM_IMAGE_CONFIG}" NAME)
set(image_source "${CMAKE_BINARY_DIR}/image_config.cpp")
file(CONFIGURE OUTPUT "${image_source}" CONTENT
"// Generated from ${NETLOOM_IMAGE_CONFIG}: do not edit.
extern const char* const netloom_image_config_name = \"(embedded) ${image_config_name}\";
extern const char* const netloom_image_config_yaml = R\"netloom_yaml(${image_yaml})netloom_yaml\";
" @ONLY)

add_executable(netloom-image host/src/image_main.cpp "${image_source}" ${image_objects})
target_link_libraries(netloom-image PRIVATE netloom_host ${image_libs})
target_link_options(netloom-image PRIVATE -static)
set_target_properties(netloom-image PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
