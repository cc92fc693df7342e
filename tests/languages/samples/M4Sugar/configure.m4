AC_INIT([opsmith], [0.1])
AC_PREREQ([2.69])
AC_OUTPUT
