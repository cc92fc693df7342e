Attribute VB_Name = "Opsmith"
Sub Hello()
    MsgBox "Hello"
End Sub
