src/core/event_encoding.o: src/core/event_encoding.cpp \
 src/core/event_encoding.hpp src/core/json_value.hpp src/core/views.hpp \
 src/core/byte_sink.hpp src/core/error.hpp src/core/sha256.hpp \
 src/core/core_only.hpp
src/core/event_encoding.hpp:
src/core/json_value.hpp:
src/core/views.hpp:
src/core/byte_sink.hpp:
src/core/error.hpp:
src/core/sha256.hpp:
src/core/core_only.hpp:
