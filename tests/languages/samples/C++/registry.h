#pragma once

template <typename T>
struct Registry {
    T *items;
};
