# Where the injected objects live: <prefix>/<ld.so's $LIB>/sealkit/, one
# directory per ELF class, in the install tree and mirrored in the build tree,
# so that `sealkit run` and /etc/ld.so.preload can name them once as
# <prefix>/$LIB/sealkit/<object> and every process, 64-bit or 32-bit, loads
# its own class (docs/runtime.md). The values are ld.so's own (ld_so_lib.cmake);
# set them by hand only for an ld.so that is not the one on this machine.
include(${CMAKE_CURRENT_LIST_DIR}/ld_so_lib.cmake)

sealkit_probe_ld_so_lib(sealkit_ld_so_lib)
set(sealkit_probed_lib "${sealkit_ld_so_lib}")
if(NOT sealkit_probed_lib)
  set(sealkit_probed_lib ${CMAKE_INSTALL_LIBDIR})
  message(STATUS "sealkit: could not ask ld.so what $LIB is; injected objects go to ${sealkit_probed_lib}/sealkit")
endif()
set(SEALKIT_RUNTIME_LIBDIR "${sealkit_probed_lib}" CACHE STRING
  "Directory (relative to the prefix) of the 64-bit injected objects: what ld.so's $LIB is in a 64-bit process")

# Debian amd64's 32-bit ld.so (libc6-i386) says lib32; a native i386 system's
# says lib/i386-linux-gnu. lib32 when no 32-bit program can be built here (the
# i386 objects are then not built either: src/runtime/i386.cmake).
sealkit_probe_ld_so_lib(sealkit_ld_so_lib_i386 -m32)
set(sealkit_probed_lib_i386 "${sealkit_ld_so_lib_i386}")
if(NOT sealkit_probed_lib_i386)
  set(sealkit_probed_lib_i386 lib32)
endif()
set(SEALKIT_RUNTIME_LIBDIR_I386 "${sealkit_probed_lib_i386}" CACHE STRING
  "Directory (relative to the prefix) of the i386 injected objects: what ld.so's $LIB is in a 32-bit process")
if(SEALKIT_RUNTIME_LIBDIR STREQUAL SEALKIT_RUNTIME_LIBDIR_I386)
  message(FATAL_ERROR "SEALKIT_RUNTIME_LIBDIR and SEALKIT_RUNTIME_LIBDIR_I386 are both '${SEALKIT_RUNTIME_LIBDIR}': "
    "the 64-bit and 32-bit objects need directories of their own")
endif()
message(STATUS "sealkit: injected objects in <prefix>/${SEALKIT_RUNTIME_LIBDIR}/sealkit (64-bit) and "
  "<prefix>/${SEALKIT_RUNTIME_LIBDIR_I386}/sealkit (32-bit)")

# Whether `sealkit run` may name the objects as <prefix>/$LIB/sealkit/...: only
# when both directories are what ld.so said (not guesses, not changed by hand).
if(sealkit_ld_so_lib STREQUAL SEALKIT_RUNTIME_LIBDIR AND sealkit_ld_so_lib_i386 STREQUAL SEALKIT_RUNTIME_LIBDIR_I386
   AND sealkit_ld_so_lib AND sealkit_ld_so_lib_i386)
  set(SEALKIT_RUNTIME_LIB_IS_LD_SO_LIB 1)
else()
  set(SEALKIT_RUNTIME_LIB_IS_LD_SO_LIB 0)
endif()
