fun fact 0 = 1
  | fact n = n * fact (n - 1)
val r = case fact 5 of 120 => "ok" | _ => "bad"
