let greet = (name) => "Hello " ++ name;
module type Greeter = { let hello: string => string; };
