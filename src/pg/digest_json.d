src/pg/digest_json.o: src/pg/digest_json.cpp src/pg/digest_json.hpp \
 src/core/chain.hpp src/core/event_encoding.hpp src/core/json_value.hpp \
 src/core/views.hpp src/core/hex.hpp src/pg/boundary.hpp \
 src/core/error.hpp src/pg/event_view.hpp src/pg/catalog.hpp
src/pg/digest_json.hpp:
src/core/chain.hpp:
src/core/event_encoding.hpp:
src/core/json_value.hpp:
src/core/views.hpp:
src/core/hex.hpp:
src/pg/boundary.hpp:
src/core/error.hpp:
src/pg/event_view.hpp:
src/pg/catalog.hpp:
