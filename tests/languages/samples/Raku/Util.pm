use v6.d;
unit module Opsmith::Util;

sub trim(Str $s --> Str) is export { $s.trim }
