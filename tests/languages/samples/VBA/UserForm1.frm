VERSION 5.00
Begin {C62A69F0-16DC-11CE-9E98-00AA00574A4F} UserForm1
   Caption         =   "Opsmith"
End
Attribute VB_Name = "UserForm1"
