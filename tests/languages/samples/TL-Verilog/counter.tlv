\m4_TLV_version 1d: tl-x.org
\TLV
   $reset = *reset;
\SV
   endmodule
