src/pg/module.o: src/pg/module.cpp src/pg/catalog.hpp \
 src/pg/commit_writer.hpp src/pg/context.hpp src/core/views.hpp \
 src/pg/guc.hpp src/pg/relation_info.hpp src/pg/resources.hpp \
 src/pg/spool.hpp
src/pg/catalog.hpp:
src/pg/commit_writer.hpp:
src/pg/context.hpp:
src/core/views.hpp:
src/pg/guc.hpp:
src/pg/relation_info.hpp:
src/pg/resources.hpp:
src/pg/spool.hpp:
