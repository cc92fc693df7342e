#define OPSMITH_VERSION 1
declare function add(byval a as integer, byval b as integer) as integer
