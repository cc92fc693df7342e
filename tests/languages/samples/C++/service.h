#pragma once
#include <string>
#include <vector>

namespace opsmith {
class Service {
public:
    std::string name;
};
}
