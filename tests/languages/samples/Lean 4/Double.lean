import Mathlib.Data.Nat.Basic

def double (n : Nat) : Nat := 2 * n
