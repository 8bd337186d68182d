# test/unit/check_core_includes.cmake: fails if a core file includes a PostgreSQL header
# (server, client or configuration, by any path) or does not end its includes with the
# core_only.hpp fence. Run at build time (target core_fence) and as a test.
file(GLOB core_files ${CORE_DIR}/*.cpp ${CORE_DIR}/*.hpp)
set(bad "")
foreach(f ${core_files})
  file(STRINGS ${f} includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${includes})
    string(TOLOWER "${line}" lower)
    if(lower MATCHES "[\"</](postgres|postgres_ext|postgres_fe|fmgr|c|funcapi|miscadmin)\\.h[\">]"
       OR lower MATCHES "[\"</](pg_[a-z0-9_]*|libpq[-a-z0-9_]*)\\.h[\">]"
       OR lower MATCHES "postgresql"
       OR lower MATCHES "[\"<](utils|access|catalog|executor|nodes|storage|commands|lib|mb|common|port|tcop|parser|replication|optimizer|rewrite|postmaster|libpq)/")
      list(APPEND bad "${f}: ${line}")
    endif()
  endforeach()
  if(f MATCHES "\\.cpp$")
    file(STRINGS ${f} fence REGEX "#include \"core/core_only.hpp\"")
    if(NOT fence)
      list(APPEND bad "${f}: missing #include \"core/core_only.hpp\"")
    endif()
  endif()
endforeach()
if(bad)
  string(REPLACE ";" "\n" msg "${bad}")
  message(FATAL_ERROR "PostgreSQL leaked into src/core:\n${msg}")
endif()
message(STATUS "src/core is free of PostgreSQL headers")
