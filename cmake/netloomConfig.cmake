# find_package(netloom): the installed netloom SDK. Gives netloom::sdk (headers + libnetloom)
# and netloom_plugin(<name> <sources...>), which builds a loadable plugin netloom_<name>.so.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(yaml-cpp)
find_dependency(fmt)
find_dependency(spdlog)
find_dependency(Boost 1.74)
include(${CMAKE_CURRENT_LIST_DIR}/netloomTargets.cmake)

function(netloom_plugin name)
  add_library(netloom_${name} MODULE ${ARGN})
  target_link_libraries(netloom_${name} PRIVATE netloom::sdk)
  target_compile_definitions(netloom_${name} PRIVATE BOOST_DLL_USE_STD_FS)
  target_compile_features(netloom_${name} PRIVATE cxx_std_20)
  set_target_properties(netloom_${name} PROPERTIES PREFIX "" OUTPUT_NAME netloom_${name}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
endfunction()
