src/pg/relation_info.o: src/pg/relation_info.cpp src/pg/relation_info.hpp
src/pg/relation_info.hpp:
