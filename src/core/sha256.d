src/core/sha256.o: src/core/sha256.cpp src/core/sha256.hpp \
 src/core/views.hpp src/core/error.hpp src/core/core_only.hpp
src/core/sha256.hpp:
src/core/views.hpp:
src/core/error.hpp:
src/core/core_only.hpp:
