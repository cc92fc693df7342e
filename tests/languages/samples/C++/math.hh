#pragma once
namespace opsmith { int add(int a, int b); }
