src/pg/verifier.o: src/pg/verifier.cpp src/pg/verifier.hpp \
 src/core/chain.hpp src/core/event_encoding.hpp src/core/json_value.hpp \
 src/core/views.hpp src/pg/boundary.hpp src/core/error.hpp \
 src/pg/catalog.hpp src/pg/chain_store.hpp src/pg/context.hpp \
 src/pg/event_view.hpp src/pg/ledger.hpp src/pg/resources.hpp
src/pg/verifier.hpp:
src/core/chain.hpp:
src/core/event_encoding.hpp:
src/core/json_value.hpp:
src/core/views.hpp:
src/pg/boundary.hpp:
src/core/error.hpp:
src/pg/catalog.hpp:
src/pg/chain_store.hpp:
src/pg/context.hpp:
src/pg/event_view.hpp:
src/pg/ledger.hpp:
src/pg/resources.hpp:
