src/core/json_text.o: src/core/json_text.cpp src/core/json_text.hpp \
 src/core/json_value.hpp src/core/views.hpp src/core/error.hpp \
 src/core/core_only.hpp
src/core/json_text.hpp:
src/core/json_value.hpp:
src/core/views.hpp:
src/core/error.hpp:
src/core/core_only.hpp:
