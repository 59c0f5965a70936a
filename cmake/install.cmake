# install(): library (shared and static), headers, CLI, a CMake package
# (find_package(sealkit)) and a pkg-config file (pkg-config --libs sealkit).
include(CMakePackageConfigHelpers)

install(TARGETS sealkit sealkit_static EXPORT sealkitTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
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

configure_file(${PROJECT_SOURCE_DIR}/cmake/sealkit.pc.in ${PROJECT_BINARY_DIR}/sealkit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/sealkit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
