# tools/check_vectors.cmake: regenerates the hash test vectors into OUT and fails unless the
# committed files in VECTORS are byte-identical (the encoding or the generator changed).
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${GENERATOR} ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the vector generator failed (${rc})")
endif()
set(differ "")
foreach(f hash_vectors.json hash_vectors.jsonl hash_vectors_digest.json)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${VECTORS}/${f} ${OUT}/${f} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(APPEND differ ${f})
  endif()
endforeach()
if(differ)
  message(FATAL_ERROR "regenerated vectors differ from the committed ones: ${differ}\n"
    "Compare ${OUT} with ${VECTORS}. If the hash specification changed on purpose, bump its "
    "format and commit the new files; otherwise the encoding broke.")
endif()
message(STATUS "test vectors are up to date")
