!Greeter methodsFor: 'greeting'!
hello
    ^ 'Hello'
! !
