def greet [name: string] {
    $"Hello ($name)"
}
