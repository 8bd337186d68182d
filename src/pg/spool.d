src/pg/spool.o: src/pg/spool.cpp src/pg/spool.hpp
src/pg/spool.hpp:
