# ctest sdk.plugin_cannot_include_core: builds two plugin targets made with the same
# sluice_plugin_module() as every shipped plugin (plugins/CMakeLists.txt).
#   sluice_probe_includes_core must fail, and because core/config/config.h is not found;
#   sluice_probe_sdk_only (the control) must build — so the failure is the include path's.
# -D BUILD_DIR=<build dir>
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target sluice_probe_sdk_only
                RESULT_VARIABLE ok_rc OUTPUT_VARIABLE ok_out ERROR_VARIABLE ok_err)
if(NOT ok_rc EQUAL 0)
  message(FATAL_ERROR "the control plugin (sdk header only) did not build:\n${ok_out}${ok_err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target sluice_probe_includes_core
                RESULT_VARIABLE bad_rc OUTPUT_VARIABLE bad_out ERROR_VARIABLE bad_err)
if(bad_rc EQUAL 0)
  message(FATAL_ERROR "a plugin that includes core/config/config.h compiled: plugins can see core/")
endif()
if(NOT "${bad_out}${bad_err}" MATCHES "core/config/config.h: No such file")
  message(FATAL_ERROR "the probe failed, but not for the missing core header:\n${bad_out}${bad_err}")
endif()
message(STATUS "ok: a plugin cannot include core/config/config.h; the sdk-only control builds")
