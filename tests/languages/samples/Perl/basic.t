use strict;
use warnings;
use Test::More tests => 1;

ok(1, 'opsmith loads');
