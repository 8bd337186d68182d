src/pg/value_to_jsonb.o: src/pg/value_to_jsonb.cpp \
 src/pg/value_to_jsonb.hpp
src/pg/value_to_jsonb.hpp:
