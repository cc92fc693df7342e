moveq #0,d0
move.l d0,-(sp)
rts
