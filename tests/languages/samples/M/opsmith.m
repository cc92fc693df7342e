OPSMITH ; greet
 ;
 WRITE "Hello",!
 QUIT
