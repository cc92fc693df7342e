/* XPM */
static char *opsmith[] = {
"2 2 1 1",
"  c None",
"  ",
"  "
};
