src/pg/jsonb_tokens.o: src/pg/jsonb_tokens.cpp src/pg/jsonb_tokens.hpp \
 src/core/json_value.hpp src/core/views.hpp
src/pg/jsonb_tokens.hpp:
src/core/json_value.hpp:
src/core/views.hpp:
