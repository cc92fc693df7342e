#define OPSMITH_VERSION "0.1"
#command ? <list,...> => QOut(<list>)
