# Run by `cmake --install` (install(CODE) in the top-level CMakeLists.txt,
# which sets prefix, the DTR_* directories relative to it and the ABI
# version read from include/dtr/plugin.h). Writes the two installed files
# that name absolute paths under the prefix chosen at install time:
#   <libdir>/pkgconfig/dtr-plugin.pc   from cmake/dtr-plugin.pc.in
#   <sysconfdir>/dtr/dtr.json          config/dtr.json with plugin_dir and
#                                      data_dir pointing into the prefix
# DESTDIR is honoured; both files go into install_manifest.txt.

function(dtr_install_write rel content)
  set(dest "$ENV{DESTDIR}${prefix}/${rel}")
  message(STATUS "Installing: ${dest}")
  get_filename_component(dir "${dest}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(WRITE "${dest}" "${content}")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dest}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

file(READ "${DTR_SRC}/cmake/dtr-plugin.pc.in" pc_template)
string(CONFIGURE "${pc_template}" pc @ONLY)
dtr_install_write("${DTR_LIBDIR}/pkgconfig/dtr-plugin.pc" "${pc}")

# The installed server's config: the repository's default (the same plugins),
# but the plugins are looked up where they were installed and the data lives
# under the prefix, so `dtr serve --config <prefix>/etc/dtr/dtr.json` works
# from any directory.
# The two values are replaced in the text, so the file keeps the order and
# layout of config/dtr.json; a key it lacks is added.
file(READ "${DTR_SRC}/config/dtr.json" cfg)
foreach(pair "plugin_dir=${prefix}/${DTR_PLUGINDIR}" "data_dir=${prefix}/${DTR_LOCALSTATEDIR}/lib/dtr")
  string(REGEX MATCH "^[^=]+" key "${pair}")
  string(REGEX REPLACE "^[^=]+=" "" value "${pair}")
  string(REGEX REPLACE "\"${key}\"[ \t]*:[ \t]*\"[^\"]*\"" "\"${key}\": \"${value}\"" new "${cfg}")
  if(new STREQUAL cfg)
    string(JSON new SET "${cfg}" ${key} "\"${value}\"")
  endif()
  set(cfg "${new}")
  string(JSON got GET "${cfg}" ${key})
  if(NOT got STREQUAL value)
    message(FATAL_ERROR "config/dtr.json: could not set ${key} for the installed config")
  endif()
endforeach()
dtr_install_write("${DTR_SYSCONFDIR}/dtr/dtr.json" "${cfg}")
