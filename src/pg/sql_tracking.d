src/pg/sql_tracking.o: src/pg/sql_tracking.cpp src/pg/capture.hpp \
 src/pg/catalog.hpp src/pg/row_writer.hpp
src/pg/capture.hpp:
src/pg/catalog.hpp:
src/pg/row_writer.hpp:
