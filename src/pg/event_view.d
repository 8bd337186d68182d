src/pg/event_view.o: src/pg/event_view.cpp src/pg/event_view.hpp \
 src/core/event_encoding.hpp src/core/json_value.hpp src/core/views.hpp \
 src/pg/catalog.hpp src/core/hex.hpp src/pg/boundary.hpp \
 src/core/error.hpp src/pg/jsonb_tokens.hpp
src/pg/event_view.hpp:
src/core/event_encoding.hpp:
src/core/json_value.hpp:
src/core/views.hpp:
src/pg/catalog.hpp:
src/core/hex.hpp:
src/pg/boundary.hpp:
src/core/error.hpp:
src/pg/jsonb_tokens.hpp:
