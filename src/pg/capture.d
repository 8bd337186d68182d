src/pg/capture.o: src/pg/capture.cpp src/pg/capture.hpp src/core/hex.hpp \
 src/core/sha256.hpp src/core/views.hpp src/pg/boundary.hpp \
 src/core/error.hpp src/pg/catalog.hpp src/pg/context.hpp \
 src/pg/relation_info.hpp src/pg/resources.hpp src/pg/spool.hpp \
 src/pg/value_to_jsonb.hpp
src/pg/capture.hpp:
src/core/hex.hpp:
src/core/sha256.hpp:
src/core/views.hpp:
src/pg/boundary.hpp:
src/core/error.hpp:
src/pg/catalog.hpp:
src/pg/context.hpp:
src/pg/relation_info.hpp:
src/pg/resources.hpp:
src/pg/spool.hpp:
src/pg/value_to_jsonb.hpp:
