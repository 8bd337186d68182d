src/pg/ledger.o: src/pg/ledger.cpp src/pg/ledger.hpp src/pg/catalog.hpp \
 src/pg/row_writer.hpp
src/pg/ledger.hpp:
src/pg/catalog.hpp:
src/pg/row_writer.hpp:
