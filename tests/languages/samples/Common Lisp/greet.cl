(in-package :cl-user)
(defun greet (name)
  (format t "Hello, ~a~%" name))
