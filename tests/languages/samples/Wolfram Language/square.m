(* opsmith demo *)
f[x_] := x^2 (* square *)
