      PROGRAM HELLO
      PRINT *, 'Hello'
      END
