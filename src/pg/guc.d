src/pg/guc.o: src/pg/guc.cpp src/pg/guc.hpp
src/pg/guc.hpp:
