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
