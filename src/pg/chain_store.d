src/pg/chain_store.o: src/pg/chain_store.cpp src/pg/chain_store.hpp \
 src/core/views.hpp src/pg/catalog.hpp src/pg/guc.hpp
src/pg/chain_store.hpp:
src/core/views.hpp:
src/pg/catalog.hpp:
src/pg/guc.hpp:
