use v6;

sub greet(Str $name) { say "Hello, $name" }
greet('world');
