%module opsmith
%{
#include "opsmith.h"
%}
int opsmith_add(int a, int b);
