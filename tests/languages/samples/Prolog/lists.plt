:- begin_tests(lists).
test(reverse) :- reverse([a,b], [b,a]).
:- end_tests(lists).
