/ opsmith demo
avg:{sum[x]%count x}
\l utils.q
