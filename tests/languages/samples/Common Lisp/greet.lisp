(defpackage :opsmith (:use :cl))
(in-package :opsmith)
(defun greet (name) (format nil "Hello, ~a" name))
