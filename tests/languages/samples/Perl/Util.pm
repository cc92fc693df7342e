package Opsmith::Util;
use strict;
use warnings;

sub trim { my ($s) = @_; $s =~ s/^\s+|\s+$//g; return $s }

1;
