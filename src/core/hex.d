src/core/hex.o: src/core/hex.cpp src/core/hex.hpp src/core/error.hpp \
 src/core/core_only.hpp
src/core/hex.hpp:
src/core/error.hpp:
src/core/core_only.hpp:
