# install(): library (shared and static), headers, CLI, a CMake package
# (find_package(sealkit)) and a pkg-config file (pkg-config --libs sealkit).
include(CMakePackageConfigHelpers)

install(TARGETS sealkit sealkit_static EXPORT sealkitTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS sealkit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sealkit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SEALKIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/sealkit)
install(EXPORT sealkitTargets NAMESPACE sealkit:: DESTINATION ${SEALKIT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sealkitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sealkitConfig.cmake INSTALL_DESTINATION ${SEALKIT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sealkitConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sealkitConfig.cmake ${PROJECT_BINARY_DIR}/sealkitConfigVersion.cmake
  DESTINATION ${SEALKIT_CMAKE_DIR})

# pkg-config: the prefix is written relative to the .pc file (${pcfiledir}),
# because CMAKE_INSTALL_PREFIX at configure time is not where
# `cmake --install --prefix DIR` puts the files.
set(SEALKIT_PC_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SEALKIT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(SEALKIT_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(SEALKIT_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _sealkit_pc_up "/p/${SEALKIT_PC_INSTALL_DIR}" "/p")
  string(REGEX REPLACE "/$" "" _sealkit_pc_up "${_sealkit_pc_up}")
  set(SEALKIT_PC_PREFIX "\${pcfiledir}/${_sealkit_pc_up}")
  set(SEALKIT_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(SEALKIT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/sealkit.pc.in ${PROJECT_BINARY_DIR}/sealkit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/sealkit.pc DESTINATION ${SEALKIT_PC_INSTALL_DIR})

# Man pages (man/: sealkit(1), sealkit-runtime.conf(5), libsealkit(3)), one `.so` page per C function so that
# `man sealkit_mseal` finds libsealkit(3), and the bash completion of the CLI, which bash-completion loads from
# share/bash-completion/completions/ by the command's name.
install(FILES ${PROJECT_SOURCE_DIR}/man/sealkit.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/man/sealkit-runtime.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${PROJECT_SOURCE_DIR}/man/libsealkit.3 DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
foreach(function sealkit_mseal sealkit_mmap sealkit_mprotect sealkit_set_mode sealkit_is_sealed
                 sealkit_seal_loaded_objects sealkit_backend sealkit_version)
  file(WRITE ${PROJECT_BINARY_DIR}/man/${function}.3 ".so man3/libsealkit.3\n")
  install(FILES ${PROJECT_BINARY_DIR}/man/${function}.3 DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/completion/sealkit DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# sealkit-metrics.service and .timer (systemd/, docs/fleet.md): installed, never enabled. The service names the
# sealkit binary of the prefix given at install time (`cmake --install --prefix DIR` too), so it is written then.
# systemd reads units from <prefix>/lib/systemd/system for /usr and /usr/local; Debian's debhelper wants
# /lib/systemd/system (debian/rules sets it).
set(SEALKIT_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING
  "Where the systemd units go: relative to the install prefix, or absolute")
install(CODE "
  if(IS_ABSOLUTE \"${CMAKE_INSTALL_BINDIR}\")
    set(SEALKIT_BIN \"${CMAKE_INSTALL_BINDIR}/sealkit\")
  else()
    set(SEALKIT_BIN \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/sealkit\")
  endif()
  configure_file(\"${PROJECT_SOURCE_DIR}/systemd/sealkit-metrics.service.in\"
    \"${PROJECT_BINARY_DIR}/systemd/sealkit-metrics.service\" @ONLY)
")
install(FILES ${PROJECT_BINARY_DIR}/systemd/sealkit-metrics.service ${PROJECT_SOURCE_DIR}/systemd/sealkit-metrics.timer
  DESTINATION ${SEALKIT_SYSTEMD_UNIT_DIR})

# The Prometheus alert rules with their promtool tests, and the Grafana dashboard (examples/, docs/fleet.md).
install(FILES ${PROJECT_SOURCE_DIR}/examples/prometheus/sealkit.rules.yml
  ${PROJECT_SOURCE_DIR}/examples/prometheus/sealkit.rules.test.yml
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/prometheus)
install(FILES ${PROJECT_SOURCE_DIR}/examples/grafana/sealkit.json DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/grafana)
