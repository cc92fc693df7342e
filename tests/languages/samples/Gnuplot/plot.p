set terminal png
set output "opsmith.png"
plot sin(x)
