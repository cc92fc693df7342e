(define (greet name)
  (string-append "Hello, " name))
(display (greet "world"))
