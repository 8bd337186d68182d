src/pg/catalog.o: src/pg/catalog.cpp src/pg/catalog.hpp
src/pg/catalog.hpp:
