src/pg/sql_verify.o: src/pg/sql_verify.cpp src/pg/catalog.hpp \
 src/pg/chain_store.hpp src/core/views.hpp src/pg/digest_json.hpp \
 src/core/chain.hpp src/core/event_encoding.hpp src/core/json_value.hpp \
 src/pg/event_view.hpp src/pg/ledger.hpp src/pg/row_writer.hpp \
 src/pg/verifier.hpp
src/pg/catalog.hpp:
src/pg/chain_store.hpp:
src/core/views.hpp:
src/pg/digest_json.hpp:
src/core/chain.hpp:
src/core/event_encoding.hpp:
src/core/json_value.hpp:
src/pg/event_view.hpp:
src/pg/ledger.hpp:
src/pg/row_writer.hpp:
src/pg/verifier.hpp:
