src/pg/resources.o: src/pg/resources.cpp src/pg/resources.hpp \
 src/pg/catalog.hpp src/pg/row_writer.hpp
src/pg/resources.hpp:
src/pg/catalog.hpp:
src/pg/row_writer.hpp:
