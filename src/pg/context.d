src/pg/context.o: src/pg/context.cpp src/pg/context.hpp \
 src/core/views.hpp src/core/event_encoding.hpp src/core/json_value.hpp \
 src/pg/boundary.hpp src/core/error.hpp src/pg/catalog.hpp src/pg/guc.hpp \
 src/pg/row_writer.hpp
src/pg/context.hpp:
src/core/views.hpp:
src/core/event_encoding.hpp:
src/core/json_value.hpp:
src/pg/boundary.hpp:
src/core/error.hpp:
src/pg/catalog.hpp:
src/pg/guc.hpp:
src/pg/row_writer.hpp:
