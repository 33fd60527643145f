# The Debian package: `cpack -G DEB` in a build configured with CMAKE_INSTALL_PREFIX=/usr
# (scripts/package.sh does both). It holds what `cmake --install` lays out, plus:
#   - the default bridge.json and streams.json in MQP_CONFDIR, as conffiles;
#   - mqpush-bridge-token (libexec) with its daily timer, which keeps the bridge's broker token
#     valid from a local service key that postinst creates (see docs/debian.md);
#   - a mosquitto conf.d snippet that loads the plugin, shipped inactive in share/mqpush;
#   - maintainer scripts (packaging/deb/postinst.in, prerm, postrm.in) that honour DPKG_ROOT.
# Included from the top-level CMakeLists.txt after GNUInstallDirs and MQP_CONFDIR.

set(MQP_LIBEXECDIR "${CMAKE_INSTALL_FULL_LIBEXECDIR}")
set(MQP_DATADIR "${CMAKE_INSTALL_FULL_DATADIR}/mqpush")
set(MQP_PLUGIN_FILE "${CMAKE_INSTALL_FULL_LIBDIR}/mqpush/mqpush_plugin.so")
set(MQP_DEB_DIR "${CMAKE_CURRENT_BINARY_DIR}/packaging/deb")

# Installed by `cmake --install` too: they only act where MQP_CONFDIR holds the service key.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../mqpush-bridge-token.in
               ${MQP_DEB_DIR}/mqpush-bridge-token @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/../systemd/mqpush-bridge-token.service.in
               ${MQP_DEB_DIR}/mqpush-bridge-token.service @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/mosquitto-mqpush.conf.in
               ${MQP_DEB_DIR}/mosquitto-mqpush.conf @ONLY)
install(PROGRAMS ${MQP_DEB_DIR}/mqpush-bridge-token
        DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/mqpush)
install(FILES ${MQP_DEB_DIR}/mqpush-bridge-token.service
              ${CMAKE_CURRENT_LIST_DIR}/../systemd/mqpush-bridge-token.timer
        DESTINATION ${MQP_SYSTEMD_DIR})
install(FILES ${MQP_DEB_DIR}/mosquitto-mqpush.conf DESTINATION ${CMAKE_INSTALL_DATADIR}/mqpush)

# Files of the package alone, in a component that `cmake --install` leaves out: the conffiles
# (an absolute path, so that an install into a test prefix never writes to /etc) and Debian's
# changelog (dated by SOURCE_DATE_EPOCH when set, which string(TIMESTAMP) honours).
install(FILES ${CMAKE_CURRENT_LIST_DIR}/bridge.json ${CMAKE_CURRENT_LIST_DIR}/streams.json
        DESTINATION ${MQP_CONFDIR} COMPONENT deb EXCLUDE_FROM_ALL)
set(MQP_DEB_MAINTAINER "mqpush maintainers <packages@mqpush.dev>"
    CACHE STRING "Maintainer field of the Debian package")
string(TIMESTAMP MQP_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${MQP_DEB_DIR}/changelog.Debian
     "mqpush (${PROJECT_VERSION}-1) unstable; urgency=medium\n\n"
     "  * Built by cpack from the mqpush source tree.\n\n"
     " -- ${MQP_DEB_MAINTAINER}  ${MQP_DEB_DATE}\n")
execute_process(COMMAND gzip -9nc ${MQP_DEB_DIR}/changelog.Debian
                OUTPUT_FILE ${MQP_DEB_DIR}/changelog.Debian.gz RESULT_VARIABLE MQP_GZIP_RC)
if(NOT MQP_GZIP_RC EQUAL 0)
    message(FATAL_ERROR "gzip of the Debian changelog failed: ${MQP_GZIP_RC}")
endif()
install(FILES ${MQP_DEB_DIR}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT deb EXCLUDE_FROM_ALL)

foreach(script postinst postrm conffiles)
    configure_file(${CMAKE_CURRENT_LIST_DIR}/${script}.in ${MQP_DEB_DIR}/control/${script} @ONLY)
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/prerm ${MQP_DEB_DIR}/control/prerm COPYONLY)

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    message(STATUS "mqpush: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; a Debian package "
                   "wants /usr (scripts/package.sh configures it so)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mqpush)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR mqpush)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "multi-tenant real-time push gateway on Eclipse Mosquitto")
set(CPACK_PACKAGE_DESCRIPTION "A Mosquitto plugin authenticates MQTT clients by JWT and fans domain
events out to per-tenant streams; mqpush-bridge carries the streams to
HTTP clients (Server-Sent Events, WebSocket, polling, socket.io) and to
Web Push, UnifiedPush and Shared Signals receivers. mqpushctl makes keys
and development tokens and checks configurations.")
set(CPACK_PACKAGE_CONTACT "${MQP_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
# Libraries from dpkg-shlibdeps; the broker because the plugin runs inside it (plugin API v5,
# Mosquitto 2); passwd for groupadd/useradd in postinst (init-system-helpers is essential).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "mosquitto (>= 2.0), passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${MQP_DEB_DIR}/control/postinst ${MQP_DEB_DIR}/control/prerm
    ${MQP_DEB_DIR}/control/postrm ${MQP_DEB_DIR}/control/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES ON)
# One package from every component, the package's own files included.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified deb)
include(CPack)
