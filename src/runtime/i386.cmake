# The i386 build of both injected objects, for 32-bit programs on a 64-bit
# machine. /etc/ld.so.preload names the preload object through ld.so's $LIB
# (Debian amd64: lib/x86_64-linux-gnu and lib32), so a 32-bit program
# finds an object of its own class instead of ld.so's "cannot be preloaded"
# message; and a 32-bit process can seal: the kernel's compat mseal is the same
# system call number (462) and the same rules.
#
# The sources are the 64-bit targets' own (read from them, so the two lists
# cannot drift apart), compiled with -m32. Needs a multilib compiler (Debian:
# g++-multilib, installed by scripts/bootstrap); without one the i386 objects
# are not built and configure says so.
option(SEALKIT_I386 "Also build the injected objects for 32-bit programs (needs g++-multilib)" ON)
# Installed (and laid out in the build tree) under ld.so's 32-bit $LIB:
# SEALKIT_RUNTIME_LIBDIR_I386, cmake/runtime_layout.cmake.
if(NOT SEALKIT_I386)
  return()
endif()
if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  return()
endif()

include(CheckCXXSourceCompiles)
set(CMAKE_REQUIRED_FLAGS -m32)
set(CMAKE_REQUIRED_LINK_OPTIONS -m32)
check_cxx_source_compiles("#include <cstdint>\nstatic_assert(sizeof(std::uintptr_t) == 4);\nint main() { return 0; }"
  SEALKIT_HAVE_M32)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(NOT SEALKIT_HAVE_M32)
  message(STATUS "sealkit: no i386 runtime: ${CMAKE_CXX_COMPILER} cannot build -m32 programs (install g++-multilib)")
  return()
endif()

set(sealkit_i386_dir ${PROJECT_BINARY_DIR}/${SEALKIT_RUNTIME_LIBDIR_I386}/sealkit)
foreach(base sealkit_runtime sealkit_preload)
  get_target_property(sources ${base} SOURCES)
  get_target_property(output ${base} OUTPUT_NAME)
  get_target_property(options ${base} COMPILE_OPTIONS)
  get_target_property(link_options ${base} LINK_OPTIONS)
  get_target_property(libraries ${base} LINK_LIBRARIES)
  add_library(${base}_i386 SHARED ${sources})
  sealkit_injected_object(${base}_i386 ${output} OUTPUT_DIR ${sealkit_i386_dir} INSTALL_DIR ${SEALKIT_RUNTIME_LIBDIR_I386}/sealkit)
  target_compile_options(${base}_i386 PRIVATE ${options} -m32)
  target_link_options(${base}_i386 PRIVATE ${link_options} -m32)
  if(libraries)
    target_link_libraries(${base}_i386 PRIVATE ${libraries})
  endif()
  get_target_property(depends ${base} LINK_DEPENDS)
  if(depends)
    set_property(TARGET ${base}_i386 PROPERTY LINK_DEPENDS ${depends})
  endif()
  # Built with the 64-bit object, so that every build (and `sealkit run`'s
  # tests) has both.
  add_dependencies(${base} ${base}_i386)
endforeach()
# The i386 audit module's la_objsearch: the 64-bit preload name `sealkit run`
# passes becomes the i386 object's (preload_class.cpp).
target_sources(sealkit_runtime_i386 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/preload_class.cpp)
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/preload_class.cpp PROPERTIES COMPILE_DEFINITIONS
  "SEALKIT_RUNTIME_LIBDIR=\"${SEALKIT_RUNTIME_LIBDIR}\";SEALKIT_RUNTIME_LIBDIR_I386=\"${SEALKIT_RUNTIME_LIBDIR_I386}\"")
