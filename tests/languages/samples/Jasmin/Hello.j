.class public Hello
.super java/lang/Object
.method public static main([Ljava/lang/String;)V
    .limit stack 2
    return
.end method
