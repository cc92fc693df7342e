greet = (name) -> "Hello #name"
console.log greet \world
