Require Import Arith.

Theorem plus_0 : forall n, n + 0 = n.
Proof. intros. lia. Qed.
