# NOTE: Derived from blib/lib/Opsmith/Util.pm.
package Opsmith::Util;
sub trim { my $s = shift; $s =~ s/^\s+|\s+$//g; return $s }
1;
