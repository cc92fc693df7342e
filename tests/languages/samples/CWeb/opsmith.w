@* Introduction. This is opsmith's tiny literate program.
@c
@<Header files@>@;
int main() { return 0; }
