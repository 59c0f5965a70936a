# What ld.so's $LIB expands to, asked of ld.so itself.
#
# The injected objects are installed (and laid out in the build tree) under
# <prefix>/$LIB/sealkit/, once per ELF class, so that one name
# "<prefix>/$LIB/sealkit/libsealkit-runtime.so" in LD_AUDIT, LD_PRELOAD or
# /etc/ld.so.preload makes each process load the object of its own class. $LIB
# is compiled into glibc (Debian amd64: lib/x86_64-linux-gnu for 64-bit
# programs, lib32 for 32-bit ones; Fedora: lib64 and lib), and it is not
# GNUInstallDirs' CMAKE_INSTALL_LIBDIR (plain "lib" for /usr/local on Debian),
# so it is measured: a probe program built with the given flags runs with
# LD_LIBRARY_PATH=<marker>/$LIB and LD_DEBUG=libs, and ld.so prints the
# expanded search path; its last entry is <marker>/<$LIB>.
#
# sealkit_probe_ld_so_lib(<out-var> [compile flags...]): sets <out-var> to the
# expansion, or to "" when it cannot be told (cross-compiling, no such
# compiler, an ld.so that prints something else). Cached per flag set.
function(sealkit_probe_ld_so_lib out_var)
  string(MAKE_C_IDENTIFIER "SEALKIT_LD_SO_LIB_${ARGN}" cache_var)
  if(DEFINED ${cache_var})
    set(${out_var} "${${cache_var}}" PARENT_SCOPE)
    return()
  endif()
  set(result "")
  if(NOT CMAKE_CROSSCOMPILING)
    set(dir ${CMAKE_BINARY_DIR}/CMakeFiles/sealkit-ld-so-lib/${cache_var})
    file(WRITE ${dir}/probe.c "int main(void) { return 0; }\n")
    set(flags "")
    if(ARGN)
      set(flags COMPILE_DEFINITIONS ${ARGN} LINK_OPTIONS ${ARGN})
    endif()
    try_compile(built ${dir}/build SOURCES ${dir}/probe.c ${flags} COPY_FILE ${dir}/probe OUTPUT_VARIABLE log)
    if(built)
      set(marker "/nonexistent-sealkit-ld-so-lib-probe")
      execute_process(COMMAND ${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${marker}/$LIB" LD_DEBUG=libs ${dir}/probe
        RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE debug TIMEOUT 30)
      # "search path=<marker>/<lib>/tls/...:...:<marker>/<lib>		(LD_LIBRARY_PATH)"
      if(rc EQUAL 0 AND debug MATCHES "search path=[^\n]*:?${marker}/([A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*)[ \t]+\\(LD_LIBRARY_PATH\\)")
        set(result "${CMAKE_MATCH_1}")
        # A relative directory name, never ".." (it is joined to the prefix).
        if(result MATCHES "(^|/)\\.\\.?(/|$)")
          set(result "")
        endif()
      endif()
    endif()
  endif()
  set(${cache_var} "${result}" CACHE INTERNAL "ld.so's $LIB for compile flags '${ARGN}'")
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()
