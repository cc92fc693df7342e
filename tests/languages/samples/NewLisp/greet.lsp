(define (greet name) (string "Hello, " name))
(println (greet "world"))
