// opsmith scilab test
a = 1 + 1;
assert_checkequal(a, 2);
