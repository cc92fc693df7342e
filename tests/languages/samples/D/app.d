module opsmith.app;

import std.stdio;

void main()
{
    writeln("hello");
}
