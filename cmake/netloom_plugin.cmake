# netloom_add_plugin(<name> SOURCES <impl sources...> [LIBS <libs...>])
#
# A plugin folder holds plugin.cpp (the registration) and its implementation sources. This makes:
#   netloom_<name>_impl  static library of the implementation (tests link it directly)
#   netloom_<name>       dynamic build: a MODULE loaded by the host, file plugins/netloom_<name>.so
#                        static build:  an OBJECT library of plugin.cpp, linked into netloom-image
#                        when the image config names the plugin
# Plugin names are global: a config says `use: <name>` whatever the kind.
function(netloom_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  set(impl netloom_${name}_impl)
  if(P_SOURCES)
    add_library(${impl} STATIC ${P_SOURCES})
  else()
    add_library(${impl} INTERFACE)
  endif()
  if(P_SOURCES)
    target_link_libraries(${impl} PUBLIC netloom_sdk ${P_LIBS})
    target_include_directories(${impl} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    set_target_properties(${impl} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  else()
    target_link_libraries(${impl} INTERFACE netloom_sdk ${P_LIBS})
    target_include_directories(${impl} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR})
  endif()

  if(NETLOOM_STATIC)
    add_library(netloom_${name} OBJECT plugin.cpp)
    target_compile_definitions(netloom_${name} PRIVATE NETLOOM_STATIC_BUILD)
  else()
    add_library(netloom_${name} MODULE plugin.cpp)
    set_target_properties(netloom_${name} PROPERTIES
      PREFIX "" OUTPUT_NAME netloom_${name}
      LIBRARY_OUTPUT_DIRECTORY ${NETLOOM_PLUGIN_OUTPUT_DIR})
    install(TARGETS netloom_${name} LIBRARY DESTINATION lib/netloom/plugins)
  endif()
  target_link_libraries(netloom_${name} PRIVATE ${impl})
  set_target_properties(netloom_${name} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  set_property(GLOBAL APPEND PROPERTY NETLOOM_PLUGINS ${name})
endfunction()
