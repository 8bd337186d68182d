src/pg/row_writer.o: src/pg/row_writer.cpp src/pg/row_writer.hpp
src/pg/row_writer.hpp:
