src/pg/guard.o: src/pg/guard.cpp
