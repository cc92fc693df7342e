using System;

namespace Opsmith.Api
{
    public static class Program
    {
        public static void Main() => Console.WriteLine("hi");
    }
}
