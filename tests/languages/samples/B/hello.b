main() {
  extrn putchar;
  auto c;
  c = 'A';
  putchar(c);
}
